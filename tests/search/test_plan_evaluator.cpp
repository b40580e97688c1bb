// The evaluator's shortcuts change nothing but the work done: on real ARC-Challenge questions with the embedded
// default model, plans the search meets get the same rewards with the prefix cache and the settled stop as
// without either; a generation stopped early is the beginning of the full one; full_response turns the stop off.
#include <gtest/gtest.h>

#include "model/model_files.h"
#include "search/drllm_setting.h"
#include "data/tasks/task.h"
#include "data/text/chat_template.h"
#include "data/tasks/dataset.h"
#include "data/tasks/prompts.h"
#include "data/text/tokenizer.h"
#include "model/backbone.h"
#include "search/mcts.h"
#include "search/plan_evaluator.h"

namespace drllm::search {
namespace {

using model::LayerPlan;

TEST(PlanEvaluatorShortcuts, SameRewardsWithLessWork) {
  const std::string model_path = std::string("smollm2-135m-instruct");
  const model::ModelFiles files = model::ModelFiles::open(model_path);
  model::Backbone backbone = model::Backbone::load(files);
  text::Tokenizer tokenizer = files.tokenizer();
  const DrllmSetting arc(files, tasks::find_task("arc"));
  ASSERT_EQ(arc.chat()->name(), "smollm2");  // the GGUF's own template, recognised
  tasks::ReadOptions read;
  read.format = tasks::DatasetFormat::Arc;
  read.limit = 35;
  const auto all = tasks::read_dataset(std::string(DRLLM_DATASETS_DIR) + "/arc_challenge_train.jsonl", read);
  // Questions 20 and 34: on 20 the model is right with layer 18 repeated, on 34 with layers 16-17 skipped (found
  // by earlier searches), so rewarded generations, which never settle early, are among those compared. Two
  // questions and nine plans keep the test under a minute on a loaded 2-core CI machine.
  const std::vector<tasks::Example> examples = {all.examples[20], all.examples[34]};

  const int64_t L = backbone.config().num_layers;
  std::vector<LayerPlan> plans = {LayerPlan::all_execute(L)};
  std::vector<int64_t> repeat_18, skip_16_17;
  for (int64_t l = 0; l < L; ++l) {
    repeat_18.insert(repeat_18.end(), l == 18 ? 2 : 1, l);
    if (l != 16 && l != 17) skip_16_17.push_back(l);
  }
  plans.push_back(LayerPlan::from_path(repeat_18, L));
  plans.push_back(LayerPlan::from_path(skip_16_17, L));
  const std::vector<LayerPlan> near = neighbours(plans[0]);
  for (size_t i = 0; i < near.size(); i += 16) plans.push_back(near[i]);

  PlanEvaluator plain(backbone, tokenizer, {10, 2});
  PlanEvaluator fast(backbone, tokenizer, {10, 2}, model::RepeatKv::Shared, {size_t{1} << 30, true});
  int64_t plain_visits = 0, fast_visits = 0;  // both evaluators run on one backbone: count around each call
  auto visits_of = [&](int64_t& total, auto evaluate) {
    const int64_t before = backbone.computed_layer_visits();
    PlanEvaluator::Outcome out = evaluate();
    total += backbone.computed_layer_visits() - before;
    return out;
  };
  int settled = 0, rewarded = 0;
  for (const tasks::Example& ex : examples) {
    SearchExample example = arc.prepare(ex, tokenizer);
    plain.begin_example();
    fast.begin_example();
    for (const LayerPlan& plan : plans) {
      PlanEvaluator::Outcome full = visits_of(plain_visits, [&] { return plain.evaluate(example, plan); });
      PlanEvaluator::Outcome quick = visits_of(fast_visits, [&] { return fast.evaluate(example, plan); });
      EXPECT_EQ(quick.reward, full.reward) << ex.id << " " << plan.to_string();
      EXPECT_EQ(full.response.rfind(quick.response, 0), 0u) << "'" << quick.response << "' / '" << full.response << "'";
      EXPECT_FALSE(full.settled_early);
      if (quick.settled_early) {
        ++settled;
        EXPECT_LT(quick.new_tokens, full.new_tokens);
        EXPECT_EQ(quick.reward, 0.0);
      } else {
        EXPECT_EQ(quick.response, full.response);
      }
      rewarded += full.reward > 0;
      if (&plan == &plans[0]) {  // full_response: the whole answer even with the stop on
        PlanEvaluator::Outcome whole = fast.evaluate(example, plan, /*full_response=*/true);
        EXPECT_EQ(whole.response, full.response);
        EXPECT_FALSE(whole.settled_early);
      }
    }
  }
  EXPECT_GT(settled, static_cast<int>(plans.size()));  // the model's usual "A. <text>" settles early
  EXPECT_GE(rewarded, 2);
  EXPECT_LT(fast_visits, plain_visits / 2);
  std::printf("%d of %zu generations settled early, %d rewarded; layer visits %lld with shortcuts, %lld without\n",
              settled, plans.size() * examples.size(), rewarded,
              static_cast<long long>(fast_visits), static_cast<long long>(plain_visits));
}

}  // namespace
}  // namespace drllm::search
