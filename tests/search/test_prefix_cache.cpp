// The prefix-state cache changes nothing but the work done: greedy generations of many plans, run one after
// another through one cache, equal the same generations without it (both repeat semantics), and fewer layer
// visits are computed.
#include <gtest/gtest.h>

#include "model/backbone.h"
#include "model/generate.h"
#include "search/mcts.h"
#include "search/prefix_cache.h"

namespace drllm::search {
namespace {

using model::LayerPlan;

class PrefixCacheParity : public ::testing::TestWithParam<model::RepeatKv> {};

TEST_P(PrefixCacheParity, GenerationsEqualTheUncachedOnesWithFewerLayerVisits) {
  model::Backbone backbone = model::Backbone::load(std::string(DRLLM_FIXTURES_DIR) + "/qwen3_bf16");
  const int64_t L = backbone.config().num_layers;
  std::vector<TokenId> prompt = {17, 4, 99, 250, 3, 18, 77, 120, 5};
  // The default, its neighbours, and some of theirs: the plans a search meets.
  std::vector<LayerPlan> plans = {LayerPlan::all_execute(L)};
  for (const LayerPlan& p : neighbours(plans[0])) plans.push_back(p);
  for (const LayerPlan& p : neighbours(plans[3])) plans.push_back(p);

  model::GenerationOptions plain;
  plain.max_new_tokens = 6;
  plain.repeat_kv = GetParam();
  PrefixStateCache cache(1 << 30);
  int64_t start = backbone.computed_layer_visits();
  std::vector<std::vector<TokenId>> expected;
  for (const LayerPlan& p : plans) expected.push_back(model::generate_greedy(backbone, prompt, p, plain).tokens);
  int64_t uncached = backbone.computed_layer_visits() - start;

  start = backbone.computed_layer_visits();
  for (size_t i = 0; i < plans.size(); ++i) {
    model::GenerationOptions cached = plain;
    cached.layer_cache_for_call = [&](const std::vector<TokenId>& generated) -> model::LayerResultCache* {
      cache.begin_call(plans[i], generated);
      return &cache;
    };
    EXPECT_EQ(model::generate_greedy(backbone, prompt, plans[i], cached).tokens, expected[i]) << plans[i].to_string();
  }
  int64_t with_cache = backbone.computed_layer_visits() - start;
  EXPECT_LT(with_cache, uncached);
  EXPECT_GT(cache.hits(), 0);
}

INSTANTIATE_TEST_SUITE_P(RepeatSemantics, PrefixCacheParity,
                         ::testing::Values(model::RepeatKv::Shared, model::RepeatKv::Separate));

TEST(PrefixCache, StopsStoringAtItsMemoryLimit) {
  model::Backbone backbone = model::Backbone::load(std::string(DRLLM_FIXTURES_DIR) + "/qwen3_bf16");
  PrefixStateCache cache(1);  // nothing fits
  LayerPlan plan = LayerPlan::all_execute(backbone.config().num_layers);
  model::GenerationOptions o;
  o.max_new_tokens = 3;
  o.layer_cache_for_call = [&](const std::vector<TokenId>& generated) -> model::LayerResultCache* {
    cache.begin_call(plan, generated);
    return &cache;
  };
  model::generate_greedy(backbone, {5, 6, 7}, plan, o);
  model::generate_greedy(backbone, {5, 6, 7}, plan, o);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(cache.hits(), 0);
}

}  // namespace
}  // namespace drllm::search
