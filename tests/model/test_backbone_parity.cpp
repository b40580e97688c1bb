// The backbone against transformers (tests/python/make_fixtures.py): full-plan logits, greedy generation with
// the KV cache, and plans with skips and repeats against the official code's layer loop, for both repeat
// semantics, on every fixture family (llama + llama3 rope, qwen2, qwen3, mistral; fp32/bf16; tied/untied;
// sharded).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <iostream>

#include "model/backbone.h"
#include "model/generate.h"
#include "tests/model/fixtures.h"

namespace drllm::model {
namespace {

using drllm::test::fixture_dir;
using drllm::test::load_reference;

constexpr double kLogitTolerance = 1e-4;  // fp32, max abs

at::Tensor to_tensor(const nlohmann::json& nested) {
  std::vector<float> flat;
  std::vector<int64_t> shape;
  const nlohmann::json* level = &nested;
  while (level->is_array()) {
    shape.push_back(static_cast<int64_t>(level->size()));
    level = &(*level)[0];
  }
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
    if (j.is_array())
      for (const auto& x : j) walk(x);
    else
      flat.push_back(j.get<float>());
  };
  walk(nested);
  return at::tensor(flat).view(shape);
}

at::Tensor ids_tensor(const nlohmann::json& ids) {
  std::vector<std::vector<int64_t>> rows = ids.get<std::vector<std::vector<int64_t>>>();
  std::vector<int64_t> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return at::tensor(flat, at::kLong).view({static_cast<int64_t>(rows.size()), -1});
}

class BackboneParity : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    reference_ = load_reference(GetParam());
    backbone_ = std::make_unique<Backbone>(Backbone::load(fixture_dir(GetParam())));
  }
  nlohmann::json reference_;
  std::unique_ptr<Backbone> backbone_;
};

TEST_P(BackboneParity, FullPlanLogitsOfEveryPositionMatchTransformers) {
  at::Tensor prompt = ids_tensor(reference_["prompt"]);  // [2, T]
  KvCache cache = backbone_->new_cache(RepeatKv::Shared);
  at::Tensor logits = backbone_->prefill(prompt, LayerPlan::all_execute(backbone_->config().num_layers), cache,
                                         nullptr, /*all_positions=*/true);
  at::Tensor expected = to_tensor(reference_["full_logits"]);
  ASSERT_EQ(logits.sizes(), expected.sizes());
  EXPECT_LE((logits - expected).abs().max().item<double>(), kLogitTolerance);
}

// bf16 on the CPU against transformers computing in bf16 on the same weights. Rounding differs between any two
// bf16 implementations, so the test asks what matters: the argmax at every position agrees wherever
// transformers' own bf16 run agrees with fp32 (a position where bf16 itself flips the argmax proves nothing),
// and drllm's bf16 is no further from the fp32 logits than transformers' bf16 is (with slack for rounding).
TEST_P(BackboneParity, Bf16LogitsOfEveryPositionMatchTransformersBf16) {
  Backbone bf16 = Backbone::load(fixture_dir(GetParam()), {"cpu", "bfloat16"});
  ASSERT_EQ(bf16.dtype(), at::kBFloat16);
  at::Tensor prompt = ids_tensor(reference_["prompt"]);
  KvCache cache = bf16.new_cache(RepeatKv::Shared);
  at::Tensor ours = bf16.prefill(prompt, LayerPlan::all_execute(bf16.config().num_layers), cache, nullptr,
                                 /*all_positions=*/true);
  at::Tensor theirs = to_tensor(reference_["full_logits_bf16"]), fp32 = to_tensor(reference_["full_logits"]);
  ASSERT_EQ(ours.sizes(), theirs.sizes());
  at::Tensor stable = theirs.argmax(-1).eq(fp32.argmax(-1));
  const int64_t positions = stable.sum().item<int64_t>();
  const int64_t agree = (ours.argmax(-1).eq(theirs.argmax(-1)) & stable).sum().item<int64_t>();
  const double ours_error = (ours - fp32).abs().max().item<double>();
  const double their_error = (theirs - fp32).abs().max().item<double>();
  const double to_theirs = (ours - theirs).abs().max().item<double>();
  std::cout << GetParam() << ": argmax agrees at " << agree << " of " << positions << " positions (of "
            << stable.numel() << "); max |drllm bf16 - fp32| " << ours_error << ", |transformers bf16 - fp32| "
            << their_error << ", |drllm bf16 - transformers bf16| " << to_theirs << "\n";
  EXPECT_GE(positions, stable.numel() / 2) << "the fixture's bf16 oracle flips most argmaxes: not a useful test";
  EXPECT_EQ(agree, positions);
  EXPECT_LE(ours_error, 2.0 * their_error + 1e-2);
}

TEST_P(BackboneParity, LastPositionLogitsAreTheDefault) {
  at::Tensor prompt = ids_tensor(reference_["prompt"]);
  KvCache cache = backbone_->new_cache(RepeatKv::Shared);
  at::Tensor logits = backbone_->prefill(prompt, LayerPlan::all_execute(backbone_->config().num_layers), cache);
  at::Tensor expected = to_tensor(reference_["full_logits"]).select(1, prompt.size(1) - 1);
  ASSERT_EQ(logits.sizes(), expected.sizes());
  EXPECT_LE((logits - expected).abs().max().item<double>(), kLogitTolerance);
}

TEST_P(BackboneParity, GreedyGenerationOf20TokensEqualsTransformersGenerate) {
  const auto& g = reference_["generate"];
  GenerationOptions options;
  options.max_new_tokens = 20;
  Generation out = generate_greedy(*backbone_, g["prompt"].get<std::vector<TokenId>>(),
                                   LayerPlan::all_execute(backbone_->config().num_layers), options);
  EXPECT_EQ(out.tokens, g["tokens"].get<std::vector<TokenId>>());
  EXPECT_EQ(out.layer_visits, 20 * backbone_->config().num_layers);
}

TEST_P(BackboneParity, PlansWithSkipsAndRepeatsMatchTheOfficialLayerLoop) {
  at::Tensor prompt = ids_tensor(reference_["prompt"]).narrow(0, 0, 1);
  for (const auto& item : reference_["plans"]) {
    LayerPlan plan(item["plan"].get<std::vector<uint8_t>>());
    RepeatKv mode = parse_repeat_kv(item["repeat_kv"].get<std::string>());
    SCOPED_TRACE("plan " + plan.to_string() + ", repeat KV " + to_string(mode));

    KvCache cache = backbone_->new_cache(mode);
    at::Tensor logits = backbone_->prefill(prompt, plan, cache, nullptr, true)[0];
    at::Tensor expected = to_tensor(item["prefill_logits"]);
    ASSERT_EQ(logits.sizes(), expected.sizes());
    EXPECT_LE((logits - expected).abs().max().item<double>(), kLogitTolerance);

    GenerationOptions options;
    options.max_new_tokens = 8;
    options.repeat_kv = mode;
    Generation out = generate_greedy(*backbone_, reference_["prompt"][0].get<std::vector<TokenId>>(), plan, options);
    EXPECT_EQ(out.tokens, item["tokens"].get<std::vector<TokenId>>());
    EXPECT_EQ(out.layer_visits, 8 * plan.executed());
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BackboneParity, ::testing::ValuesIn(drllm::test::fixture_models()),
                         [](const auto& info) { return info.param; });

// ---------------------------------------------------------------------------------------------------------
// Cache bookkeeping and the observer, with values worked out by hand.

TEST(KvCacheSlots, SharedRepeatAppendsTwiceToOneSlotAndSeparateUsesAVirtualLayer) {
  Backbone backbone = Backbone::load(fixture_dir("qwen3_bf16"));
  at::Tensor prompt = at::arange(3, 10, at::kLong).unsqueeze(0);  // T = 7
  LayerPlan plan({0, 1, 2, 1});

  KvCache shared = backbone.new_cache(RepeatKv::Shared);
  backbone.prefill(prompt, plan, shared);
  EXPECT_EQ(shared.length(0), 0);
  EXPECT_EQ(shared.length(1), 7);
  EXPECT_EQ(shared.length(2), 14);
  EXPECT_EQ(shared.length(3), 7);
  EXPECT_EQ(shared.position(), 7);

  KvCache separate = backbone.new_cache(RepeatKv::Separate);
  backbone.prefill(prompt, plan, separate);
  EXPECT_EQ(separate.length(2), 7);
  EXPECT_EQ(separate.length(separate.slot(2, 1)), 7);
  EXPECT_EQ(separate.slot(2, 1), 4 + 2);
  backbone.decode(at::full({1, 1}, 5, at::kLong), plan, separate);
  EXPECT_EQ(separate.length(2), 8);
  EXPECT_EQ(separate.position(), 8);
}

TEST(LayerObserver, SeesEveryLayerOnceAndTheSecondPassOfRepeats) {
  Backbone backbone = Backbone::load(fixture_dir("llama_rope3_fp32"));
  at::Tensor prompt = at::tensor({7, 8, 9}, at::kLong).unsqueeze(0);
  std::vector<std::pair<int64_t, int>> visits;
  at::Tensor first;
  KvCache cache = backbone.new_cache(RepeatKv::Shared);
  backbone.prefill(prompt, LayerPlan({0, 2, 1, 0}), cache, [&](int64_t layer, int pass, const at::Tensor& h) {
    visits.emplace_back(layer, pass);
    if (visits.size() == 1) first = h.clone();
    EXPECT_EQ(h.sizes(), (std::vector<int64_t>{1, 3, 64}));
  });
  std::vector<std::pair<int64_t, int>> expected = {{0, 0}, {1, 0}, {1, 1}, {2, 0}, {3, 0}};
  EXPECT_EQ(visits, expected);
  // The state entering layer 0 is the token embedding rows themselves.
  at::Tensor rows = backbone.weights().embed.index_select(0, prompt[0]);
  EXPECT_TRUE(at::equal(first[0], rows));
}

}  // namespace
}  // namespace drllm::model
