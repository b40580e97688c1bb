// The batched search against the one-example-at-a-time search: on real ARC-Challenge questions with SmolLM2,
// searching four examples at once (their evaluations in one continuous batch, each example with its own prefix
// cache, the settled stop on) gives every example the row ExampleLabeller::label gives it, field by field, and a
// memory budget that admits two sequences changes nothing either.
#include <gtest/gtest.h>

#include "data/tasks/dataset.h"
#include "data/tasks/task.h"
#include "model/backbone.h"
#include "model/model_files.h"
#include "search/batched_search.h"
#include "search/drllm_setting.h"
#include "search/example_labeller.h"

namespace drllm::search {
namespace {

void expect_same_row(const labels::LabelRow& a, const labels::LabelRow& b) {
  SCOPED_TRACE("example " + a.item_id);
  EXPECT_EQ(a.item_id, b.item_id);
  EXPECT_EQ(a.example_index, b.example_index);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.best_path, b.best_path);
  EXPECT_EQ(a.baseline_correct, b.baseline_correct);
  EXPECT_EQ(a.best_correct, b.best_correct);
  EXPECT_EQ(a.improved, b.improved);
  EXPECT_EQ(a.num_evaluations, b.num_evaluations);
  EXPECT_EQ(a.prompt_tokens, b.prompt_tokens);
  EXPECT_EQ(a.question, b.question);
  EXPECT_EQ(a.best_response, b.best_response);
  EXPECT_EQ(a.default_response, b.default_response);
  EXPECT_EQ(a.good_paths, b.good_paths);
}

TEST(BatchedLabeller, RowsEqualTheOneAtATimeSearch) {
  const model::ModelFiles files = model::ModelFiles::open("smollm2-135m-instruct");
  model::Backbone backbone = model::Backbone::load(files, {"cpu", "float32"});
  text::Tokenizer tokenizer = files.tokenizer();
  const tasks::Task& task = tasks::find_task("arc");
  const DrllmSetting arc(files, task);
  tasks::ReadOptions read;
  read.format = tasks::DatasetFormat::Arc;
  read.limit = 35;
  const auto all = tasks::read_dataset(std::string(DRLLM_DATASETS_DIR) + "/arc_challenge_train.jsonl", read);
  // 20 and 34 have rewarded plans near the default (test_plan_evaluator.cpp), so the searches differ in length.
  const std::vector<uint32_t> picked = {20, 0, 34, 1, 2, 3};

  LabellerSetup setup;
  setup.mcts.simulations = 8;
  setup.mcts.seed = 3;
  setup.budget = arc.budget();
  setup.task = &task;
  setup.shortcuts = {size_t{256} << 20, true};
  ExampleLabeller labeller(backbone, tokenizer, arc.prompt(), arc.chat(), setup);
  std::map<uint32_t, labels::LabelRow> expected;
  for (uint32_t i : picked) expected[i] = labeller.label(all.examples[i], i);

  // A budget that holds two of the shortest sequences and not three: at most two in flight.
  size_t shortest = SIZE_MAX;
  for (uint32_t i : picked) {
    const int64_t tokens =
        static_cast<int64_t>(labeller.prepare(all.examples[i]).prompt_ids.size()) + setup.budget.max_new_tokens;
    shortest = std::min(shortest, model::sequence_memory_bytes(backbone.config(), backbone.dtype(), tokens));
  }
  for (bool bounded : {false, true}) {
    model::BatchOptions batch;
    batch.max_batch = 4;
    if (bounded) batch.max_memory_bytes = 2 * shortest + shortest / 2;
    BatchedLabeller batched(labeller, backbone.config().num_layers, batch);
    size_t taken = 0;
    std::map<uint32_t, labels::LabelRow> got;
    model::BatchRunStats stats = batched.run(
        [&](uint32_t& index) -> const tasks::Example* {
          if (taken == picked.size()) return nullptr;
          index = picked[taken++];
          return &all.examples[index];
        },
        [&](labels::LabelRow row) { got[row.example_index] = std::move(row); });
    ASSERT_EQ(got.size(), expected.size());
    for (uint32_t i : picked) expect_same_row(got[i], expected[i]);
    if (bounded)
      EXPECT_LE(stats.most_in_flight, 2);
    else
      EXPECT_EQ(stats.most_in_flight, 4);
    int64_t evaluations = 0;
    for (const auto& [i, row] : expected) evaluations += row.num_evaluations;
    EXPECT_EQ(stats.sequences, evaluations);
  }
}

}  // namespace
}  // namespace drllm::search
