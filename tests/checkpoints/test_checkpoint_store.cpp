// CheckpointStore on its own: committed folders, keep-last-K, `latest`, and the newest valid checkpoint when the
// newest one is damaged (a changed byte) or was never committed (a .tmp folder left by a kill).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "checkpoints/checkpoint_store.h"

namespace drllm::checkpoints {
namespace {

namespace fs = std::filesystem;

std::string fresh_run(const std::string& name) {
  std::string dir = (fs::temp_directory_path() / ("drllm-test-ckpt-" + name)).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// One checkpoint: a file whose content is the step.
std::vector<std::string> write_step(const std::string& dir, int64_t step) {
  std::ofstream(dir + "/weights.bin") << "weights of step " << step;
  return {"weights.bin"};
}

TEST(CheckpointStore, KeepsTheLastKAndFindsTheNewest) {
  const std::string run = fresh_run("keep");
  CheckpointStore store(run, 2);
  for (int64_t step : {10, 20, 30}) store.save(step, [&](const std::string& dir) { return write_step(dir, step); });
  EXPECT_EQ(store.steps(), (std::vector<int64_t>{20, 30}));
  std::vector<std::string> warnings;
  auto found = store.newest_valid([&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->step, 30);
  EXPECT_TRUE(warnings.empty());
  std::ifstream latest(store.dir() + "/latest");
  std::string name;
  latest >> name;
  EXPECT_NE(name.find("30"), std::string::npos) << name;
}

TEST(CheckpointStore, ADamagedNewestIsNamedAndSkipped) {
  const std::string run = fresh_run("damaged");
  CheckpointStore store(run, 3);
  for (int64_t step : {1, 2}) store.save(step, [&](const std::string& dir) { return write_step(dir, step); });
  auto newest = store.newest_valid([](const std::string&) {});
  ASSERT_TRUE(newest.has_value());
  const std::string file = newest->dir + "/weights.bin";
  std::ofstream(file, std::ios::trunc) << "weights of step 9";  // same length, one byte changed
  EXPECT_NE(verify_checkpoint(newest->dir), "");
  std::vector<std::string> warnings;
  auto found = store.newest_valid([&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->step, 1);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(newest->dir), std::string::npos) << warnings[0];
}

TEST(CheckpointStore, AnUncommittedFolderIsNotACheckpoint) {
  const std::string run = fresh_run("tmp");
  CheckpointStore store(run, 3);
  store.save(5, [&](const std::string& dir) { return write_step(dir, 5); });
  fs::create_directories(store.dir() + "/step-7.tmp");  // a kill during the save of step 7
  std::ofstream(store.dir() + "/step-7.tmp/weights.bin") << "half";
  auto found = store.newest_valid([](const std::string&) {});
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->step, 5);
  EXPECT_EQ(store.steps(), (std::vector<int64_t>{5}));
}

}  // namespace
}  // namespace drllm::checkpoints
