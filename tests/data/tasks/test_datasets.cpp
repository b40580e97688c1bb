// Dataset readers on the real files: the slices in datasets/ and, where present, the full splits of the shared
// assets (row counts from the dataset cards, fields of the first rows read by eye); that every shipped slice is
// the first rows of its split, byte for byte; bad rows, and the Dr.LLM prompts written out by hand.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include <sstream>

#include "common/error.h"
#include "data/tasks/dataset.h"
#include "data/tasks/prompts.h"
#include "tests/support/data_paths.h"

namespace drllm::tasks {
namespace {

using drllm::testing::shared_asset;
using drllm::testing::shipped_data;

DatasetReadResult read_path(const std::string& path, DatasetFormat format) {
  ReadOptions o;
  o.format = format;
  return read_dataset(path, o);
}
DatasetReadResult read(const std::string& name, DatasetFormat format) { return read_path(shipped_data(name), format); }
DatasetReadResult read_full(const std::string& name, DatasetFormat format) {
  return read_path(shared_asset("data/" + name), format);
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Each set: its file, its reader, the rows that ship in datasets/ (datasets/README.md) and the rows of the full
// split (its dataset card).
struct SetRows {
  const char* file;
  DatasetFormat format;
  size_t shipped, full;
};
const SetRows kSets[] = {{"arc_easy_train.jsonl", DatasetFormat::Arc, 500, 2251},
                         {"arc_challenge_train.jsonl", DatasetFormat::Arc, 1119, 1119},
                         {"arc_challenge_test.jsonl", DatasetFormat::Arc, 1172, 1172},
                         {"gsm8k_train.jsonl", DatasetFormat::Gsm8k, 1000, 7473},
                         {"gsm8k_test.jsonl", DatasetFormat::Gsm8k, 300, 1319},
                         {"piqa_validation.jsonl", DatasetFormat::Piqa, 500, 1838},
                         {"openbookqa_test.jsonl", DatasetFormat::OpenBookQa, 500, 500}};

TEST(Datasets, ReadEveryRowOfTheShippedSlices) {
  for (const SetRows& set : kSets) EXPECT_EQ(read(set.file, set.format).examples.size(), set.shipped) << set.file;
}

TEST(Datasets, ShippedSlicesAreTheFirstRowsOfTheFullSplits) {
  DRLLM_SKIP_WITHOUT_SHARED_ASSET("data/arc_challenge_test.jsonl");
  for (const char* name : {"arc_easy_train.jsonl", "arc_challenge_train.jsonl", "arc_challenge_test.jsonl",
                           "gsm8k_train.jsonl", "gsm8k_test.jsonl", "piqa_validation.jsonl", "openbookqa_test.jsonl",
                           "truthfulqa.csv"}) {
    const std::string slice = file_text(shipped_data(name)), full = file_text(shared_asset(std::string("data/") + name));
    ASSERT_FALSE(slice.empty()) << name;
    if (slice.size() < full.size()) EXPECT_EQ(slice.back(), '\n') << name << " ends inside a row";
    EXPECT_EQ(full.compare(0, slice.size(), slice), 0) << name << " is not a prefix of the full split";
  }
}

TEST(Datasets, ReadEveryRowOfTheFullSplits) {
  DRLLM_SKIP_WITHOUT_SHARED_ASSET("data/arc_challenge_test.jsonl");
  for (const SetRows& set : kSets) EXPECT_EQ(read_full(set.file, set.format).examples.size(), set.full) << set.file;
}

TEST(Datasets, ArcRowBecomesQuestionChoicesAndGoldLetter) {
  Example ex = read("arc_easy_train.jsonl", DatasetFormat::Arc).examples.at(0);
  EXPECT_EQ(ex.id, "ARC-Easy-train-00000");
  EXPECT_EQ(ex.question, "Which factor will most likely cause a person to develop a fever?");
  ASSERT_EQ(ex.choices.size(), 4u);
  EXPECT_EQ(ex.choices[1], "a bacterial population in the bloodstream");
  EXPECT_EQ(ex.gold_index, 1);
  EXPECT_EQ(ex.answer, "B");
}

TEST(Datasets, Gsm8kFinalAnswersAreIntegersWithCommasRemoved) {
  DRLLM_SKIP_WITHOUT_SHARED_ASSET("data/gsm8k_train.jsonl");  // the count of negative answers is the full split's
  auto train = read_full("gsm8k_train.jsonl", DatasetFormat::Gsm8k).examples;
  EXPECT_EQ(train.at(0).answer, "72");  // Natalia's clips
  size_t negative = 0;
  for (const Example& ex : train) {
    EXPECT_EQ(ex.answer.find(','), std::string::npos);
    EXPECT_EQ(ex.answer.find('.'), std::string::npos);
    negative += ex.answer[0] == '-';
  }
  EXPECT_EQ(negative, 3u);  // docs/graders.md
}

std::string write_temp(const std::string& text) {
  std::string path = ::testing::TempDir() + "/drllm-rows.jsonl";
  std::ofstream(path) << text;
  return path;
}

TEST(Datasets, BadRowsAreNamedWithFileAndLineOrSkippedAndCounted) {
  std::string path = write_temp(
      "{\"question\": \"ok?\", \"answer\": \"x\\n#### 4\"}\n"
      "{\"question\": \"broken\"\n"
      "{\"answer\": \"#### 5\"}\n"
      "{\"question\": \"no final line\", \"answer\": \"5\"}\n"
      "{\"question\": \"fine\", \"answer\": \"#### 1,234\"}\n");
  ReadOptions o;
  o.format = DatasetFormat::Gsm8k;
  try {
    read_dataset(path, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":2: malformed JSON"), std::string::npos) << e.what();
  }
  o.skip_bad_rows = true;
  DatasetReadResult r = read_dataset(path, o);
  ASSERT_EQ(r.examples.size(), 2u);
  EXPECT_EQ(r.examples[1].answer, "1234");
  EXPECT_EQ(r.skipped, 3u);
  ASSERT_EQ(r.skip_reasons.size(), 3u);
  EXPECT_NE(r.skip_reasons[1].find(":3: missing field 'question'"), std::string::npos) << r.skip_reasons[1];
  EXPECT_NE(r.skip_reasons[2].find(":4: field 'answer' has no '#### <number>' line"), std::string::npos);
}

TEST(Datasets, MmluRowsFromTheCaisSchema) {
  std::string path = write_temp(
      "{\"question\": \"2+2?\", \"subject\": \"elementary_mathematics\", \"choices\": [\"3\", \"4\", \"5\", \"6\"], "
      "\"answer\": 1}\n{\"question\": \"x\", \"choices\": [\"a\"], \"answer\": 3}\n");
  ReadOptions o;
  o.format = DatasetFormat::Mmlu;
  o.skip_bad_rows = true;
  DatasetReadResult r = read_dataset(path, o);
  ASSERT_EQ(r.examples.size(), 1u);
  EXPECT_EQ(r.examples[0].subject, "elementary_mathematics");
  EXPECT_EQ(r.examples[0].answer, "B");
  EXPECT_EQ(r.skipped, 1u);
  EXPECT_NE(r.skip_reasons[0].find("field 'answer' is 3, outside the choices"), std::string::npos) << r.skip_reasons[0];
}

TEST(Datasets, DartAndGenericMappings) {
  std::string path = write_temp(
      "{\"query\": \"What is 1/2+1/4?\", \"gt_ans\": \"\\\\frac{3}{4}\", \"query_metadata\": {\"level\": 2}}\n");
  ReadOptions o;
  o.format = DatasetFormat::Dart;
  Example ex = read_dataset(path, o).examples.at(0);
  EXPECT_EQ(ex.answer, "\\frac{3}{4}");
  EXPECT_EQ(ex.level, 2);

  path = write_temp("{\"uid\": \"q1\", \"prompt\": \"Pick\", \"opts\": [\"x\", \"y\"], \"gold\": 1}\n");
  o.format = DatasetFormat::Generic;
  o.mapping = FieldMapping::parse("id=uid,question=prompt,choices=opts,gold=gold");
  ex = read_dataset(path, o).examples.at(0);
  EXPECT_EQ(ex.id, "q1");
  EXPECT_EQ(ex.answer, "B");
  EXPECT_THROW(FieldMapping::parse("question"), Error);
  EXPECT_THROW(FieldMapping::parse("colour=red"), Error);
}

TEST(Prompts, DrllmArcInstructPromptKeepsTheLeadingQuote) {
  Example ex;
  ex.question = "Which is a metal?";
  ex.choices = {"wood", "iron"};
  EXPECT_EQ(PromptTemplate::drllm("arc", true).render(ex),
            "\"Question: Which is a metal?\nA. wood\nB. iron\nAnswer with a single letter (A, B, C, or D) and no "
            "explanation. You answer should start with \"Answer: \" and be followed by the letter of the answer you "
            "choose. Do not include any other text in your response.");
  EXPECT_EQ(PromptTemplate::drllm("arc", false).render(ex),
            "Question: Which is a metal?\n\n(A) wood\n(B) iron\n\nAnswer: The correct answer is ");
}

TEST(Prompts, DrllmMathPrompts) {
  Example ex;
  ex.question = "What is {x} if x=2?";  // braces in the question are text, not placeholders
  EXPECT_EQ(PromptTemplate::drllm("math", true).render(ex),
            "Question: What is {x} if x=2?\nThe final answer MUST BE put in \\boxed{} and no explanation.");
  EXPECT_EQ(PromptTemplate::drllm("math", false).render(ex),
            "Question: What is $2 + 3$?\nAnswer: \\boxed{5}\n\nQuestion: What is $10 \\div 2$?\nAnswer: \\boxed{5}\n\n"
            "Question: What is {x} if x=2?\nAnswer: \\boxed{");
}

TEST(Prompts, UserTemplatesAreCheckedUpFront) {
  Example ex;
  ex.question = "Q";
  ex.answer = "A";
  EXPECT_EQ(PromptTemplate("<{question}|{answer}> {{literal}}", ChoiceStyle::Dotted).render(ex), "<Q|A> {literal}");
  EXPECT_THROW(PromptTemplate("{question} {context}", ChoiceStyle::Dotted), Error);
  EXPECT_THROW(PromptTemplate("{question", ChoiceStyle::Dotted), Error);
  EXPECT_THROW(PromptTemplate("a } b", ChoiceStyle::Dotted), Error);
}

}  // namespace
}  // namespace drllm::tasks
