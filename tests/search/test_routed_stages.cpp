// Routed plans on a backbone split into pipeline stages (docs/pipeline-stages.md): each later stage holds the
// routers of its own layers (route_on_stage) and decides them for the driver's routed sequences. Against the same
// routers on the model loaded whole (routed generation there is checked in test_routed_batch.cpp): the same plans,
// greedy tokens and layer visits, for routers of random weights whose plans skip and repeat on every stage; both
// the paper's frozen decisions and re-routing at each step; and route_prompt's plan.
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "common/error.h"
#include "model/backbone.h"
#include "routing/routed_generation.h"
#include "tests/model/fixtures.h"
#include "tests/model/loopback_stages.h"

namespace drllm::routing {
namespace {

class RoutedStages : public ::testing::TestWithParam<std::tuple<std::string, int>> {
 protected:
  void SetUp() override {
    const std::string& name = std::get<0>(GetParam());
    const int count = std::get<1>(GetParam());
    const std::string dtype = name.find("bf16") != std::string::npos ? "bfloat16" : "float32";
    whole_ = std::make_unique<model::Backbone>(model::Backbone::load(test::fixture_dir(name), {"cpu", dtype}));
    if (whole_->config().num_layers < count) GTEST_SKIP() << name << " has fewer layers than stages";
    for (int s = 0; s < count; ++s)
      stages_.push_back(std::make_unique<model::Backbone>(
          model::Backbone::load(test::fixture_dir(name), model::LoadOptions{"cpu", dtype, s, count})));
    std::vector<model::Backbone*> later;
    for (size_t s = 1; s < stages_.size(); ++s) later.push_back(stages_[s].get());
    stages_[0]->attach_next_stages(std::make_shared<test::LoopbackStages>(later), count);
    for (int i = 0; i < 8; ++i) {
      std::vector<TokenId> p;
      for (int t = 0; t < 3 + (i * 7) % 11; ++t) p.push_back(static_cast<TokenId>(3 + (i * 31 + t * 17) % 250));
      prompts_.push_back(p);
    }
  }
  // The routers of `seed` on every later stage.
  RouterBank routers_on_stages(uint64_t seed) {
    RouterBank routers = RouterBank::init(whole_->config().num_layers, whole_->config().hidden_size, seed);
    for (size_t s = 1; s < stages_.size(); ++s) route_on_stage(*stages_[s], routers);
    return routers;
  }
  std::unique_ptr<model::Backbone> whole_;
  std::vector<std::unique_ptr<model::Backbone>> stages_;
  std::vector<std::vector<TokenId>> prompts_;
};

TEST_P(RoutedStages, GenerationEqualsTheWholeModel) {
  model::GenerationOptions options;
  options.max_new_tokens = 5;
  model::BatchOptions batch;
  batch.max_batch = 3;  // prefills beside decodes
  const int64_t driver_end = stages_[0]->stage().end;
  std::set<std::string> plans;
  bool later_stages_decided = false;  // a skip or a repeat decided on a later stage
  for (bool reroute : {false, true}) {
    for (uint64_t seed : {0, 1, 2}) {
      RouterBank routers = routers_on_stages(seed);
      RoutingOptions routing;
      routing.reroute_each_step = reroute;
      std::vector<RoutedGeneration> want = generate_routed_batched(*whole_, routers, prompts_, options, routing, batch);
      std::vector<RoutedGeneration> got =
          generate_routed_batched(*stages_[0], routers, prompts_, options, routing, batch);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        const std::string where = "prompt " + std::to_string(i) + " seed " + std::to_string(seed) +
                                  (reroute ? " re-routed" : " frozen");
        EXPECT_EQ(got[i].plan, want[i].plan) << where;
        EXPECT_EQ(got[i].generation.tokens, want[i].generation.tokens) << where;
        EXPECT_EQ(got[i].generation.layer_visits, want[i].generation.layer_visits) << where;
        plans.insert(want[i].plan.to_string());
        for (int64_t l = driver_end; l < want[i].plan.size(); ++l)
          later_stages_decided |= want[i].plan[l] != 1;
      }
      for (size_t i = 0; i < 2; ++i)
        EXPECT_EQ(route_prompt(*stages_[0], routers, prompts_[i], routing),
                  route_prompt(*whole_, routers, prompts_[i], routing))
            << "route_prompt, prompt " << i;
    }
  }
  EXPECT_GE(plans.size(), 3u) << "random routers were meant to give the prompts different plans";
  EXPECT_TRUE(later_stages_decided) << "the later stages' routers were meant to skip or repeat somewhere";
}

// Routers of another shape are refused on a stage as on the whole model.
TEST_P(RoutedStages, RoutersThatDoNotFitAreRefused) {
  const model::ModelConfig& c = whole_->config();
  EXPECT_THROW(route_on_stage(*stages_.back(), RouterBank::init(c.num_layers + 1, c.hidden_size, 0)), Error);
  EXPECT_THROW(route_on_stage(*stages_[0], RouterBank::init(c.num_layers, c.hidden_size, 0)), Error)
      << "the driver's routers are its plan source, not installed";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RoutedStages,
                         ::testing::Combine(::testing::ValuesIn(test::fixture_models()), ::testing::Values(2, 3)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::to_string(std::get<1>(info.param)) + "stages";
                         });

}  // namespace
}  // namespace drllm::routing
