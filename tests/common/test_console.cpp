// The progress line and the log level (common/console.h), against lines worked out by hand.
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "common/console.h"
#include "common/error.h"

namespace drllm {
namespace {

TEST(Console, DurationsReadAsAPersonWritesThem) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(59.4), "59s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(-1), "?");
}

TEST(Console, PlainProgressIsOneLineAtATimeAndTheLastStateAtTheEnd) {
  set_progress_style(ProgressStyle::Plain);
  set_plain_progress_every(1e6);  // no periodic line in this test: only finish() prints
  std::ostringstream out;
  {
    Progress p("search", 4, "examples", true, out);
    p.update(1, "improved 0");
    p.update(2, "improved 1");
    EXPECT_EQ(out.str(), "");
    p.finish(4, "improved 2");
  }
  const std::string text = out.str();
  EXPECT_EQ(text.rfind("search  4/4  100 %  ", 0), 0u) << text;
  EXPECT_NE(text.find(" examples/s  "), std::string::npos) << text;
  EXPECT_EQ(text.find("ETA"), std::string::npos) << "nothing is left: no ETA\n" << text;
  EXPECT_EQ(text.substr(text.size() - 11), "improved 2\n") << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(Console, InPlaceProgressRewritesOneLineAndMessagesGoAboveIt) {
  set_progress_style(ProgressStyle::Line);
  std::ostringstream out;
  Progress p("train", 10, "steps", true, out);
  p.resume_from(5);  // five steps were done before this run: the rate counts what follows
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  p.update(6, "loss 0.5");
  p.message("epoch 1/2  step 6");
  p.finish(10, "loss 0.25");
  const std::string text = out.str();
  EXPECT_EQ(text.rfind("\rtrain  6/10  60 %  ", 0), 0u) << text;
  EXPECT_NE(text.find("ETA "), std::string::npos) << text;
  // The message clears the line, stands on its own, and the progress line is drawn again under it.
  EXPECT_NE(text.find("loss 0.5\x1b[K\r\x1b[Kepoch 1/2  step 6\n\rtrain  6/10"), std::string::npos) << text;
  EXPECT_EQ(text.substr(text.size() - 13), "loss 0.25\x1b[K\n") << text;
}

TEST(Console, InactiveOnOtherRanksWhenQuietOrNone) {
  std::ostringstream out;
  set_progress_style(ProgressStyle::Line);
  Progress(std::string("a"), 1, "x", /*active=*/false, out).finish(1);
  set_log_level(LogLevel::Error);
  Progress(std::string("b"), 1, "x", true, out).finish(1);
  set_log_level(LogLevel::Info);
  set_progress_style(ProgressStyle::None);
  Progress(std::string("c"), 1, "x", true, out).finish(1);
  EXPECT_EQ(out.str(), "");
  set_progress_style(ProgressStyle::Auto);
}

TEST(Console, BadNamesAreClearErrors) {
  EXPECT_THROW(parse_log_level("loud"), Error);
  EXPECT_THROW(parse_progress_style("bar"), Error);
  EXPECT_EQ(parse_log_level("debug"), LogLevel::Debug);
}

}  // namespace
}  // namespace drllm
