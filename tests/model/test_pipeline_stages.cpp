// Pipeline stages in one process (the MPI transport is tested under mpirun in test_pipeline_stages.py): a model
// cut into 2 or 3 stages, each loaded with only its tensors and linked through a loopback that encodes and decodes
// every message as bytes, against the same model loaded whole (itself checked against transformers in
// test_backbone_parity.cpp): the same logits and plans for a mixed batch, the same greedy tokens, the same states
// seen by an observer; the split by parameter bytes worked out by hand; malformed messages refused.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "model/backbone.h"
#include "model/batch_generation.h"
#include "model/generate.h"
#include "model/micro_batches.h"
#include "model/stage_messages.h"
#include "model/stage_range.h"
#include "tests/model/fixtures.h"
#include "tests/model/loopback_stages.h"

namespace drllm::model {
namespace {

using test::LoopbackStages;

ModelConfig tiny_config(int64_t layers) {
  ModelConfig c;
  c.vocab_size = 100;
  c.hidden_size = 4;
  c.intermediate_size = 8;
  c.num_layers = layers;
  c.num_heads = c.num_kv_heads = 1;
  c.head_dim = 4;
  return c;
}

// Block: 2*4 norms + 4*12 qkv + 4*4 o + 3*4*8 mlp = 168 values; embeddings 400; final norm + lm_head 404.
TEST(StageSplit, BalancesParameterBytesWorkedByHand) {
  ModelConfig c = tiny_config(4);
  EXPECT_EQ(stage_parameter_bytes(c, 0, 1, true, false, 1), 568);
  EXPECT_EQ(stage_parameter_bytes(c, 3, 4, false, true, 1), 572);
  // 2 stages: [0,2) 736 and [2,4) 740 beat [0,1) 568 / [1,4) 908 and [0,3) 904 / [3,4) 572.
  std::vector<StageRange> two = split_by_parameter_bytes(c, 2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].begin, 0);
  EXPECT_EQ(two[0].end, 2);
  EXPECT_EQ(two[1].end, 4);
  // 3 stages: the middle one, with neither embeddings nor lm_head, takes two layers: max(568, 336, 572) = 572.
  std::vector<StageRange> three = split_by_parameter_bytes(c, 3);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[0].end, 1);
  EXPECT_EQ(three[1].end, 3);
  EXPECT_EQ(three[2].end, 4);
  EXPECT_TRUE(three[0].first() && three[2].last() && !three[1].first() && !three[1].last());
  EXPECT_THROW(split_by_parameter_bytes(c, 5), Error);
  EXPECT_THROW(split_by_parameter_bytes(c, 0), Error);
}

// Worked by hand with kMinMicroBatchRows = 16.
TEST(MicroBatches, EqualRowsPerGroupAndNoneTooSmall) {
  using Groups = std::vector<std::vector<size_t>>;
  EXPECT_EQ(micro_batches({150, 150}, 2), (Groups{{0}, {1}}));
  EXPECT_EQ(micro_batches({100, 100, 100}, 3), (Groups{{0}, {1}, {2}}));
  EXPECT_EQ(micro_batches({40, 10, 20, 10, 20}, 2), (Groups{{0, 1}, {2, 3, 4}}));  // 50 rows, then 50
  EXPECT_EQ(micro_batches({100, 100, 100}, 2), (Groups{{0, 1}, {2}}));             // 2 groups, not 3
  EXPECT_EQ(micro_batches({1, 1, 1, 1, 1, 1, 1, 1}, 2), (Groups{{0, 1, 2, 3, 4, 5, 6, 7}}));  // decode: one group
  EXPECT_EQ(micro_batches({200, 1, 1}, 2), (Groups{{0, 1, 2}}));  // the second group would read weights for 2 rows
  EXPECT_EQ(micro_batches({150}, 4), (Groups{{0}}));
  EXPECT_EQ(micro_batches({20, 20}, 1), (Groups{{0, 1}}));
}

TEST(StageMessages, RoundTripAndRefuseDamage) {
  StageMessage m;
  m.released = {3, 9};
  m.ticket = 77;
  m.layer_visits = 7;
  m.sequences.push_back({42, 5, 1, false, true, RepeatKv::Separate, 64, {1, 0, 2}, true, 0.25, 1.5});
  m.tensor = at::arange(12, at::kFloat).view({3, 4}).to(at::kBFloat16);
  m.observed.push_back({0, 2, 1, at::ones({1, 4})});
  std::vector<uint8_t> bytes = encode_stage_message(m);
  StageMessage back = decode_stage_message(bytes, at::kCPU);
  EXPECT_EQ(back.released, m.released);
  EXPECT_EQ(back.layer_visits, 7);
  EXPECT_EQ(back.ticket, 77u);
  ASSERT_EQ(back.sequences.size(), 1u);
  EXPECT_EQ(back.sequences[0].handle, 42u);
  EXPECT_TRUE(back.sequences[0].observe && !back.sequences[0].all_positions);
  EXPECT_EQ(back.sequences[0].repeat, RepeatKv::Separate);
  EXPECT_EQ(back.sequences[0].counts, (std::vector<uint8_t>{1, 0, 2}));
  EXPECT_TRUE(back.sequences[0].route);
  EXPECT_EQ(back.sequences[0].knob, 0.25);
  EXPECT_EQ(back.sequences[0].router_seconds, 1.5);
  EXPECT_TRUE(back.tensor.equal(m.tensor));
  EXPECT_EQ(back.observed.at(0).layer, 2);
  std::vector<uint8_t> truncated(bytes.begin(), bytes.end() - 3);
  EXPECT_THROW(decode_stage_message(truncated, at::kCPU), Error);
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  EXPECT_THROW(decode_stage_message(longer, at::kCPU), Error);
  std::vector<uint8_t> garbage = bytes;
  garbage[0] ^= 1;
  EXPECT_THROW(decode_stage_message(garbage, at::kCPU), Error);
}

class Stages : public ::testing::TestWithParam<std::tuple<std::string, int>> {
 protected:
  void SetUp() override {
    const std::string& name = std::get<0>(GetParam());
    const int count = std::get<1>(GetParam());
    const std::string dtype = name.find("bf16") != std::string::npos ? "bfloat16" : "float32";
    whole_ = std::make_unique<Backbone>(Backbone::load(test::fixture_dir(name), {"cpu", dtype}));
    if (whole_->config().num_layers < count) GTEST_SKIP() << name << " has fewer layers than stages";
    for (int s = 0; s < count; ++s) {
      LoadOptions o{"cpu", dtype, s, count};
      stages_.push_back(std::make_unique<Backbone>(Backbone::load(test::fixture_dir(name), o)));
    }
    std::vector<Backbone*> later;
    for (int s = 1; s < count; ++s) later.push_back(stages_[static_cast<size_t>(s)].get());
    link_ = std::make_shared<LoopbackStages>(later);
    stages_[0]->attach_next_stages(link_, count);
    prompts_ = test::load_reference(name)["prompt"].get<std::vector<std::vector<TokenId>>>();
  }
  std::unique_ptr<Backbone> whole_;
  std::vector<std::unique_ptr<Backbone>> stages_;
  std::shared_ptr<LoopbackStages> link_;
  std::vector<std::vector<TokenId>> prompts_;
};

TEST_P(Stages, EachStageHoldsOnlyItsShareOfTheWeights) {
  int64_t sum = 0;
  for (auto& s : stages_) {
    EXPECT_LT(s->weight_bytes(), whole_->weight_bytes());
    sum += s->weight_bytes();
    const StageRange& r = s->stage();
    for (int64_t l = 0; l < s->config().num_layers; ++l)
      EXPECT_EQ(s->weights().layers[static_cast<size_t>(l)].qkv_w.defined(), r.holds(l)) << "layer " << l;
    EXPECT_EQ(s->weights().embed.defined(), r.first());
    EXPECT_EQ(s->weights().lm_head.defined(), r.last());
  }
  // The stages' tensors together are the whole model's, plus the tied embeddings' second copy on the last stage.
  const bool tied = whole_->config().tie_word_embeddings;
  EXPECT_EQ(sum, whole_->weight_bytes() + (tied ? whole_->weights().embed.nbytes() : 0));
}

// A mixed batch through generate_batched (prefills beside decodes, sequences leaving and joining): the tokens
// and every forward's logits of the whole model.
TEST_P(Stages, GenerationEqualsTheWholeModel) {
  const int64_t L = whole_->config().num_layers;
  std::vector<LayerPlan> plans = {LayerPlan::all_execute(L)};
  std::vector<uint8_t> mixed(static_cast<size_t>(L), 1), late(static_cast<size_t>(L), 1);
  mixed[0] = 2;
  mixed[static_cast<size_t>(L - 1)] = 0;
  late[static_cast<size_t>(L - 1)] = 2;  // a repeat on the last stage
  late[static_cast<size_t>(L / 2)] = 0;
  plans.push_back(LayerPlan(mixed));
  plans.push_back(LayerPlan(late));
  for (RepeatKv mode : {RepeatKv::Shared, RepeatKv::Separate}) {
    std::vector<std::unique_ptr<FixedPlan>> sources;
    std::vector<GenerationRequest> whole_requests, staged_requests;
    for (size_t i = 0; i < 6; ++i) {
      sources.push_back(std::make_unique<FixedPlan>(plans[i % plans.size()]));
      GenerationRequest r;
      r.prompt = prompts_[i % prompts_.size()];
      if (i >= prompts_.size() && r.prompt.size() > i) r.prompt.resize(r.prompt.size() - i);  // other lengths
      r.source = sources.back().get();
      r.options.max_new_tokens = 3 + static_cast<int64_t>(i % 3);
      r.options.min_new_tokens = r.options.max_new_tokens;
      r.options.repeat_kv = mode;
      whole_requests.push_back(r);
      staged_requests.push_back(r);
    }
    BatchOptions batch;
    batch.max_batch = 3;
    std::vector<Generation> want = generate_batched(*whole_, whole_requests, batch);
    std::vector<Generation> got = generate_batched(*stages_[0], staged_requests, batch);
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].tokens, want[i].tokens) << "sequence " << i;
      EXPECT_EQ(got[i].layer_visits, want[i].layer_visits) << "sequence " << i;
    }
  }
  EXPECT_GT(link_->sends, 0);
  // Every stage's computed visits are counted on the driver.
  EXPECT_EQ(stages_[0]->computed_layer_visits(), whole_->computed_layer_visits());
}

// A forward call with enough rows goes through the stages in one micro-batch per stage, a decode step in one;
// either way each sequence gets the whole model's logits (fp32 within 1e-5: the driver's matmuls run over
// fewer rows) and plan.
TEST_P(Stages, MicroBatchesGiveTheWholeModelsLogits) {
  const int64_t L = whole_->config().num_layers;
  std::vector<uint8_t> skip_repeat(static_cast<size_t>(L), 1);
  skip_repeat[0] = 0;
  skip_repeat[static_cast<size_t>(L - 1)] = 2;
  const LayerPlan plans[] = {LayerPlan::all_execute(L), LayerPlan(skip_repeat)};
  const size_t n = 2 * stages_.size();
  std::vector<std::unique_ptr<FixedPlan>> sources;
  std::vector<KvCache> whole_caches, staged_caches;
  for (size_t i = 0; i < n; ++i) {
    sources.push_back(std::make_unique<FixedPlan>(plans[i % 2]));
    whole_caches.push_back(whole_->new_cache(RepeatKv::Shared));
    staged_caches.push_back(stages_[0]->new_cache(RepeatKv::Shared));
  }
  const double tolerance = whole_->dtype() == at::kFloat ? 1e-5 : 0.0;
  for (int step = 0; step < 2; ++step) {  // a prefill of 20 tokens each, then a decode step
    std::vector<Backbone::SequenceStep> whole_steps, staged_steps;
    for (size_t i = 0; i < n; ++i) {
      at::Tensor tokens = step == 0 ? (at::arange(20, at::kLong) * 7 + static_cast<int64_t>(i)) % 90 + 3
                                    : at::full({1}, 5 + static_cast<int64_t>(i), at::kLong);
      whole_steps.push_back({tokens, sources[i].get(), &whole_caches[i]});
      staged_steps.push_back({tokens, sources[i].get(), &staged_caches[i]});
    }
    const int sends_before = link_->sends;
    std::vector<Backbone::Forward> want = whole_->forward_batch(whole_steps);
    std::vector<Backbone::Forward> got = stages_[0]->forward_batch(staged_steps);
    EXPECT_EQ(link_->sends - sends_before, step == 0 ? static_cast<int>(stages_.size()) : 1)
        << (step == 0 ? "a prefill of " : "a decode step of ") << n << " sequences";
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(got[i].plan, want[i].plan) << "sequence " << i;
      EXPECT_LE((got[i].logits - want[i].logits).abs().max().item<double>(), tolerance) << "sequence " << i;
    }
  }
}

// Batched generation on S stages keeps S cohorts' calls in flight (while the later stages run one cohort's step
// the driver runs the next one's): the whole model's tokens and layer visits for every sequence.
TEST_P(Stages, CohortsTakeTurnsAndGenerateTheWholeModelsTokens) {
  const int64_t L = whole_->config().num_layers;
  std::vector<uint8_t> skip_repeat(static_cast<size_t>(L), 1);
  skip_repeat[static_cast<size_t>(L / 2)] = 0;
  skip_repeat[static_cast<size_t>(L - 1)] = 2;
  const LayerPlan plans[] = {LayerPlan::all_execute(L), LayerPlan(skip_repeat)};
  std::vector<std::unique_ptr<FixedPlan>> sources;
  std::vector<GenerationRequest> requests;
  for (size_t i = 0; i < 7; ++i) {
    sources.push_back(std::make_unique<FixedPlan>(plans[i % 2]));
    GenerationRequest r;
    r.prompt = prompts_[i % prompts_.size()];
    r.source = sources.back().get();
    r.options.max_new_tokens = r.options.min_new_tokens = 2 + static_cast<int64_t>(i % 4);
    requests.push_back(r);
  }
  BatchOptions batch;
  batch.max_batch = 2;
  std::vector<Generation> want = generate_batched(*whole_, requests, batch);
  std::vector<Generation> got(requests.size());
  size_t taken = 0;
  BatchRunStats stats = generate_batched(
      *stages_[0], batch,
      [&]() -> std::optional<GenerationRequest> {
        if (taken == requests.size()) return std::nullopt;
        GenerationRequest r = requests[taken];
        r.tag = taken++;
        return r;
      },
      [&](GenerationRequest& r, Generation g) { got[r.tag] = std::move(g); });
  EXPECT_EQ(stats.most_calls_in_flight, static_cast<int64_t>(stages_.size()));
  EXPECT_LE(stats.most_in_flight, batch.max_batch);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].tokens, want[i].tokens) << "sequence " << i;
    EXPECT_EQ(got[i].layer_visits, want[i].layer_visits) << "sequence " << i;
  }
}

// A prefill with an observer (router inputs) while a batch's call is in flight: each gets its own results, the
// replies matched by ticket although the batch's comes back first.
TEST_P(Stages, ACallRunsWhileAnotherIsInFlight) {
  const int64_t L = whole_->config().num_layers;
  const LayerPlan plan = LayerPlan::all_execute(L);
  FixedPlan source(plan);
  auto tokens = [&](size_t i) { return at::tensor(prompts_[i % prompts_.size()], at::kLong); };
  KvCache whole_a = whole_->new_cache(RepeatKv::Shared), staged_a = stages_[0]->new_cache(RepeatKv::Shared);
  KvCache whole_b = whole_->new_cache(RepeatKv::Shared), staged_b = stages_[0]->new_cache(RepeatKv::Shared);
  std::vector<at::Tensor> want_seen, got_seen;
  at::Tensor want_batch = whole_->forward_batch({{tokens(0), &source, &whole_a}})[0].logits;
  at::Tensor want_prefill = whole_->prefill(tokens(1).unsqueeze(0), plan, whole_b, [&](int64_t, int, const at::Tensor& h) {
    want_seen.push_back(h.clone());
  });
  Backbone::StartedBatch started = stages_[0]->start_batch({{tokens(0), &source, &staged_a}});
  at::Tensor got_prefill = stages_[0]->prefill(tokens(1).unsqueeze(0), plan, staged_b, [&](int64_t, int, const at::Tensor& h) {
    got_seen.push_back(h.clone());
  });
  at::Tensor got_batch = stages_[0]->finish_batch(started)[0].logits;
  const double tolerance = whole_->dtype() == at::kFloat ? 1e-5 : 0.0;
  EXPECT_LE((got_batch - want_batch).abs().max().item<double>(), tolerance);
  EXPECT_LE((got_prefill - want_prefill).abs().max().item<double>(), tolerance);
  ASSERT_EQ(got_seen.size(), want_seen.size());
  for (size_t i = 0; i < want_seen.size(); ++i)
    EXPECT_LE((got_seen[i] - want_seen[i]).abs().max().item<double>(), tolerance) << "state " << i;
}

// prefill()/decode() with an observer (router inputs along a fixed plan): the same states in the same order, and
// logits within 1e-5 (fp32) or equal (bf16).
TEST_P(Stages, ObservedStatesAndLogitsEqualTheWholeModel) {
  const int64_t L = whole_->config().num_layers;
  std::vector<uint8_t> counts(static_cast<size_t>(L), 1);
  counts[static_cast<size_t>(L - 1)] = 2;
  counts[0] = 0;
  const LayerPlan plan(counts);
  struct Seen {
    int64_t layer;
    int pass;
    at::Tensor state;
  };
  auto run = [&](Backbone& b, std::vector<Seen>& seen) {
    KvCache cache = b.new_cache(RepeatKv::Shared);
    at::Tensor tokens = at::tensor(prompts_[0], at::kLong).unsqueeze(0);
    at::Tensor first = b.prefill(tokens, plan, cache, [&](int64_t layer, int pass, const at::Tensor& h) {
      seen.push_back({layer, pass, h.clone()});
    }, /*all_positions=*/true);
    at::Tensor next = b.decode(at::full({1, 1}, prompts_[0][0], at::kLong), plan, cache);
    return std::make_pair(first, next);
  };
  std::vector<Seen> want, got;
  auto [want_prefill, want_decode] = run(*whole_, want);
  auto [got_prefill, got_decode] = run(*stages_[0], got);
  const double tolerance = whole_->dtype() == at::kFloat ? 1e-5 : 0.0;
  ASSERT_EQ(got_prefill.sizes(), want_prefill.sizes());
  EXPECT_LE((got_prefill - want_prefill).abs().max().item<double>(), tolerance);
  EXPECT_LE((got_decode - want_decode).abs().max().item<double>(), tolerance);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].layer, want[i].layer);
    EXPECT_EQ(got[i].pass, want[i].pass);
    EXPECT_LE((got[i].state - want[i].state).abs().max().item<double>(), tolerance) << "state " << i;
  }
}

// A routed sequence reaching a stage that holds no routers, and a forward call started on a later stage, are
// refused (routed plans that work are tests/search/test_routed_stages.cpp's).
TEST_P(Stages, RoutedPlansNeedRoutersOnTheStagesAndLaterStagesDoNotDrive) {
  class RoutesOnStages final : public PlanSource {
   public:
    int decide(int64_t, const at::Tensor&) override { return 1; }
    bool reads_hidden() const override { return true; }
    std::optional<double> stage_routing_knob() const override { return -0.5; }
  } routed;
  KvCache cache = stages_[0]->new_cache(RepeatKv::Shared);
  at::Tensor tokens = at::tensor(prompts_[0], at::kLong).unsqueeze(0);
  EXPECT_THROW(stages_[0]->prefill(tokens, routed, cache), Error);
  KvCache other = stages_.back()->new_cache(RepeatKv::Shared);
  EXPECT_THROW(stages_.back()->prefill(tokens, LayerPlan::all_execute(whole_->config().num_layers), other), Error);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Stages,
                         ::testing::Combine(::testing::ValuesIn(test::fixture_models()), ::testing::Values(2, 3)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::to_string(std::get<1>(info.param)) + "stages";
                         });

}  // namespace
}  // namespace drllm::model
