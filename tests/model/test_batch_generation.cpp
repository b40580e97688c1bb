// Batched plan execution against its oracle, the batch-1 backbone (itself checked against transformers in
// test_backbone_parity.cpp): every sequence of a mixed batch — its own plan (skipping layer 0, all layers but one,
// repeating in both KV semantics), its own prompt length, prefilling next to others decoding — gets the logits
// and greedy tokens of its own batch-1 run; finished sequences leave and their slots are refilled; the memory
// budget bounds the batch.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "model/backbone.h"
#include "model/batch_generation.h"
#include "model/generate.h"
#include "tests/model/fixtures.h"

namespace drllm::model {
namespace {

constexpr double kLogitTolerance = 1e-4;  // fp32, max abs

// Plans that stress the batch: for L layers (L >= 3).
std::vector<LayerPlan> mixed_plans(int64_t L) {
  std::vector<uint8_t> all(static_cast<size_t>(L), 1), skip0 = all, only_last(static_cast<size_t>(L), 0),
      repeats = all, mixed = all;
  skip0[0] = 0;
  only_last[static_cast<size_t>(L - 1)] = 1;
  for (int64_t l = 0; l < L; l += 2) repeats[static_cast<size_t>(l)] = 2;
  mixed[0] = 2;
  mixed[1] = 0;
  mixed[static_cast<size_t>(L - 1)] = 2;
  return {LayerPlan(all), LayerPlan(skip0), LayerPlan(only_last), LayerPlan(repeats), LayerPlan(mixed)};
}

class BatchedPlans : public ::testing::TestWithParam<std::tuple<std::string, RepeatKv>> {
 protected:
  void SetUp() override {
    const std::string& name = std::get<0>(GetParam());
    backbone_ = std::make_unique<Backbone>(Backbone::load(test::fixture_dir(name), {"cpu", "float32"}));
    std::vector<std::vector<TokenId>> rows =
        test::load_reference(name)["prompt"].get<std::vector<std::vector<TokenId>>>();
    // Prompts of different lengths: whole rows and prefixes of them.
    prompts_ = {rows[0], rows[1], {rows[0].begin(), rows[0].begin() + 3}, {rows[1].begin(), rows[1].end() - 2},
                {rows[1].begin(), rows[1].begin() + 1}};
    plans_ = mixed_plans(backbone_->config().num_layers);
    mode_ = std::get<1>(GetParam());
  }
  std::unique_ptr<Backbone> backbone_;
  std::vector<std::vector<TokenId>> prompts_;
  std::vector<LayerPlan> plans_;
  RepeatKv mode_ = RepeatKv::Shared;
};

double max_difference(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

// Three decode steps after a mixed prefill, with a latecomer prefilling while the others decode: every sequence's
// logits and plan as its own prefill()/decode() gives them.
TEST_P(BatchedPlans, EverySequenceOfAMixedBatchHasItsBatchOneLogits) {
  const size_t n = plans_.size();
  std::vector<KvCache> batch_caches, alone_caches;
  std::vector<FixedPlan> sources;
  for (size_t i = 0; i < n; ++i) {
    batch_caches.push_back(backbone_->new_cache(mode_));
    alone_caches.push_back(backbone_->new_cache(mode_));
    sources.emplace_back(plans_[i]);
  }
  const size_t late = n - 1;  // joins at the second step
  std::vector<at::Tensor> next(n);
  for (int step = 0; step < 4; ++step) {
    std::vector<Backbone::SequenceStep> steps;
    std::vector<size_t> who;
    for (size_t i = 0; i < n; ++i) {
      if (i == late && step == 0) continue;
      const bool prefill = batch_caches[i].position() == 0;
      at::Tensor tokens = prefill ? at::tensor(prompts_[i], at::kLong) : next[i];
      steps.push_back({tokens, &sources[i], &batch_caches[i], nullptr});
      who.push_back(i);
    }
    std::vector<Backbone::Forward> out = backbone_->forward_batch(steps);
    ASSERT_EQ(out.size(), who.size());
    for (size_t j = 0; j < who.size(); ++j) {
      const size_t i = who[j];
      at::Tensor tokens = steps[j].tokens.unsqueeze(0);
      at::Tensor alone = alone_caches[i].position() == 0
                             ? backbone_->prefill(tokens, plans_[i], alone_caches[i])[0]
                             : backbone_->decode(tokens, plans_[i], alone_caches[i])[0];
      EXPECT_EQ(out[j].plan, plans_[i]);
      EXPECT_LE(max_difference(out[j].logits, alone), kLogitTolerance)
          << "sequence " << i << " (plan " << plans_[i].to_string() << ") at step " << step;
      next[i] = out[j].logits.argmax(-1).view({1});
      EXPECT_EQ(next[i].item<int64_t>(), alone.argmax(-1).item<int64_t>());
    }
  }
  for (size_t i = 0; i < n; ++i)
    for (int64_t slot = 0; slot < (mode_ == RepeatKv::Shared ? 1 : 2) * backbone_->config().num_layers; ++slot)
      EXPECT_EQ(batch_caches[i].length(slot), alone_caches[i].length(slot)) << "sequence " << i << " slot " << slot;
}

// More requests than slots, budgets that end them at different steps, a stop token: the same tokens as
// generate_greedy, slots refilled as sequences finish.
TEST_P(BatchedPlans, ContinuousBatchingGivesEachSequenceItsGreedyTokens) {
  std::vector<GenerationRequest> requests;
  std::vector<std::unique_ptr<FixedPlan>> sources;
  std::vector<Generation> expected;
  for (size_t i = 0; i < 2 * plans_.size(); ++i) {
    const LayerPlan& plan = plans_[i % plans_.size()];
    sources.push_back(std::make_unique<FixedPlan>(plan));
    GenerationRequest r;
    r.prompt = prompts_[(i * 3) % prompts_.size()];
    r.source = sources.back().get();
    r.options.max_new_tokens = 2 + static_cast<int64_t>((i * 5) % 9);
    r.options.min_new_tokens = i % 3 == 0 ? 2 : 0;
    r.options.stop_tokens = backbone_->config().eos_token_ids;
    r.options.repeat_kv = mode_;
    expected.push_back(generate_greedy(*backbone_, r.prompt, plan, r.options));
    requests.push_back(std::move(r));
  }
  BatchOptions options;
  options.max_batch = 3;
  std::vector<int64_t> finished_order;
  size_t taken = 0;
  std::vector<Generation> got(requests.size());
  BatchRunStats stats = generate_batched(
      *backbone_, options,
      [&]() -> std::optional<GenerationRequest> {
        if (taken == requests.size()) return std::nullopt;
        GenerationRequest r = requests[taken];
        r.tag = taken++;
        return r;
      },
      [&](GenerationRequest& r, Generation g) {
        finished_order.push_back(static_cast<int64_t>(r.tag));
        got[r.tag] = std::move(g);
      });
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(got[i].tokens, expected[i].tokens) << "request " << i;
    EXPECT_EQ(got[i].stopped, expected[i].stopped) << "request " << i;
    EXPECT_EQ(got[i].layer_visits, expected[i].layer_visits) << "request " << i;
  }
  EXPECT_EQ(stats.sequences, static_cast<int64_t>(requests.size()));
  EXPECT_EQ(stats.most_in_flight, 3);
  // Refilled: fewer calls than running the requests three at a time in fixed groups would take.
  int64_t grouped_calls = 0;
  for (size_t g = 0; g < expected.size(); g += 3) {
    int64_t longest = 0;
    for (size_t i = g; i < std::min(g + 3, expected.size()); ++i)
      longest = std::max<int64_t>(longest, static_cast<int64_t>(expected[i].tokens.size()));
    grouped_calls += longest;
  }
  EXPECT_LT(stats.forward_calls, grouped_calls);
  EXPECT_NE(finished_order, std::vector<int64_t>([&] {
              std::vector<int64_t> in_order(requests.size());
              for (size_t i = 0; i < in_order.size(); ++i) in_order[i] = static_cast<int64_t>(i);
              return in_order;
            }()))
      << "the budgets were meant to finish the sequences out of order";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BatchedPlans,
                         ::testing::Combine(::testing::ValuesIn(test::fixture_models()),
                                            ::testing::Values(RepeatKv::Shared, RepeatKv::Separate)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + to_string(std::get<1>(info.param));
                         });

// bf16: bit-identical, not just close. A projection's rows do not depend on how many rows it has (Backbone::project),
// so a sequence's logits in a mixed batch equal its batch-1 logits exactly: what makes a bf16 search's labels
// independent of --batch. On SmolLM2-135M (the fixtures' 64-wide matmuls take one kernel at any row count, so
// they would pass without it) and the fixtures.
TEST(BatchedPlansBf16, EverySequenceOfAMixedBatchHasItsBatchOneLogitsExactly) {
  std::vector<std::string> models = {"smollm2-135m-instruct"};
  for (const std::string& name : test::fixture_models()) models.push_back(name);
  const std::vector<std::vector<TokenId>> rows =
      test::load_reference(test::fixture_models()[0])["prompt"].get<std::vector<std::vector<TokenId>>>();
  for (const std::string& name : models) {
    Backbone backbone = Backbone::load(name == models[0] ? name : test::fixture_dir(name), {"cpu", "bfloat16"});
    ASSERT_EQ(backbone.dtype(), at::kBFloat16);
    const std::vector<std::vector<TokenId>> prompts = {rows[0], {rows[1].begin(), rows[1].begin() + 3}, {rows[0][0]}};
    const std::vector<LayerPlan> plans = mixed_plans(backbone.config().num_layers);
    for (RepeatKv mode : {RepeatKv::Shared, RepeatKv::Separate}) {
      std::vector<GenerationRequest> requests;
      std::vector<std::unique_ptr<FixedPlan>> sources;
      std::vector<Generation> alone;
      for (size_t i = 0; i < 2 * plans.size(); ++i) {
        sources.push_back(std::make_unique<FixedPlan>(plans[i % plans.size()]));
        GenerationRequest r{prompts[i % prompts.size()], sources.back().get(), {}, 0};
        r.options.max_new_tokens = 3 + static_cast<int64_t>(i % 4);
        r.options.repeat_kv = mode;
        alone.push_back(generate_greedy(backbone, r.prompt, *r.source, r.options));
        requests.push_back(std::move(r));
      }
      BatchOptions options;
      options.max_batch = 4;
      std::vector<Generation> together = generate_batched(backbone, requests, options);
      for (size_t i = 0; i < requests.size(); ++i)
        EXPECT_EQ(together[i].tokens, alone[i].tokens) << name << " request " << i << " " << to_string(mode);

      // The logits themselves, at a mixed prefill.
      std::vector<KvCache> caches;
      std::vector<FixedPlan> fixed;
      for (size_t i = 0; i < plans.size(); ++i) {
        caches.push_back(backbone.new_cache(mode));
        fixed.emplace_back(plans[i]);
      }
      std::vector<Backbone::SequenceStep> steps;
      for (size_t i = 0; i < plans.size(); ++i)
        steps.push_back({at::tensor(prompts[i % prompts.size()], at::kLong), &fixed[i], &caches[i], nullptr});
      std::vector<Backbone::Forward> out = backbone.forward_batch(steps);
      for (size_t i = 0; i < plans.size(); ++i) {
        KvCache cache = backbone.new_cache(mode);
        at::Tensor expected = backbone.prefill(steps[i].tokens.unsqueeze(0), plans[i], cache)[0];
        EXPECT_TRUE(at::equal(out[i].logits, expected))
            << name << " plan " << plans[i].to_string() << ": max difference "
            << (out[i].logits - expected).abs().max().item<double>();
      }
    }
  }
}

// The memory budget: a sequence that alone exceeds it is an error naming both sizes; one that fits two sequences
// never runs three.
TEST(BatchMemory, TheBudgetBoundsTheBatchAndRefusesASequenceThatCannotFit) {
  Backbone backbone = Backbone::load(test::fixture_dir(test::fixture_models()[0]), {"cpu", "float32"});
  std::vector<TokenId> prompt = {5, 6, 7, 8};
  LayerPlan plan = LayerPlan::all_execute(backbone.config().num_layers);
  std::vector<GenerationRequest> requests;
  FixedPlan source(plan);
  for (int i = 0; i < 5; ++i) {
    GenerationRequest r;
    r.prompt = prompt;
    r.source = &source;
    r.options.max_new_tokens = 6;
    requests.push_back(r);
  }
  const size_t one = sequence_memory_bytes(backbone.config(), backbone.dtype(), 10);
  BatchOptions options;
  options.max_batch = 8;
  options.max_memory_bytes = 2 * one + one / 2;
  size_t taken = 0;
  BatchRunStats stats = generate_batched(
      backbone, options,
      [&]() -> std::optional<GenerationRequest> {
        if (taken == requests.size()) return std::nullopt;
        return requests[taken++];
      },
      [](GenerationRequest&, Generation g) { EXPECT_EQ(g.tokens.size(), 6u); });
  EXPECT_EQ(stats.sequences, 5);
  EXPECT_EQ(stats.most_in_flight, 2);

  options.max_memory_bytes = one - 1;
  try {
    generate_batched(backbone, requests, options);
    FAIL() << "a sequence larger than the budget was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("more than the memory budget"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace drllm::model
