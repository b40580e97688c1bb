// Routed generation in batches against routed generation one prompt at a time: each sequence of a batch is routed
// at its own prefill (routers of random weights on a fixture model, so plans skip, execute and repeat and differ
// between prompts), and gets the plan and the greedy tokens it gets alone, with fewer layer visits than unrouted
// whenever its routers skip.
#include <gtest/gtest.h>

#include <set>

#include "model/backbone.h"
#include "routing/routed_generation.h"
#include "tests/model/fixtures.h"

namespace drllm::routing {
namespace {

TEST(RoutedBatch, EverySequenceGetsItsOwnPlanAndTokens) {
  model::Backbone backbone = model::Backbone::load(test::fixture_dir("qwen2_fp32"), {"cpu", "float32"});
  const model::ModelConfig& c = backbone.config();
  std::vector<std::vector<TokenId>> prompts;
  for (int i = 0; i < 12; ++i) {
    std::vector<TokenId> p;
    for (int t = 0; t < 3 + (i * 7) % 11; ++t) p.push_back(static_cast<TokenId>(3 + (i * 31 + t * 17) % 250));
    prompts.push_back(p);
  }
  model::GenerationOptions options;
  options.max_new_tokens = 6;
  model::BatchOptions batch;
  batch.max_batch = 5;
  std::set<std::string> plans;
  for (uint64_t seed : {0, 1, 2}) {
    RouterBank routers = RouterBank::init(c.num_layers, c.hidden_size, seed);
    std::vector<RoutedGeneration> together = generate_routed_batched(backbone, routers, prompts, options, {}, batch);
    ASSERT_EQ(together.size(), prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) {
      RoutedGeneration alone = generate_routed(backbone, routers, prompts[i], options);
      EXPECT_EQ(together[i].plan, alone.plan) << "prompt " << i << " seed " << seed;
      EXPECT_EQ(together[i].generation.tokens, alone.generation.tokens) << "prompt " << i << " seed " << seed;
      EXPECT_EQ(together[i].generation.layer_visits, alone.generation.layer_visits);
      plans.insert(alone.plan.to_string());
    }
  }
  EXPECT_GE(plans.size(), 3u) << "random routers were meant to give the prompts different plans";
}

}  // namespace
}  // namespace drllm::routing
