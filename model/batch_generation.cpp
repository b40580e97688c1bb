#include "model/batch_generation.h"

#include <algorithm>
#include <deque>
#include <list>

#include "common/error.h"

namespace drllm::model {
namespace {

// A sequence in flight.
struct Slot {
  GenerationRequest request;
  KvCache cache;
  Generation generation;
  at::Tensor next_tokens;  // [t]: the prompt, then the last generated token
  size_t memory = 0;
};

}  // namespace

size_t sequence_memory_bytes(const ModelConfig& c, at::ScalarType dtype, int64_t tokens) {
  const size_t element = static_cast<size_t>(c10::elementSize(dtype));
  const size_t t = static_cast<size_t>(tokens);
  const size_t kv = 2 * 2 * static_cast<size_t>(c.num_layers * c.num_kv_heads * c.head_dim) * t;  // k and v, 2 runs
  const size_t activations =
      t * static_cast<size_t>(3 * c.hidden_size + (c.num_heads + 2 * c.num_kv_heads) * c.head_dim +
                              2 * c.intermediate_size + c.num_heads * t);  // states, qkv, gate/up, scores
  return (kv + activations) * element;
}

BatchRunStats generate_batched(Backbone& backbone, const BatchOptions& options, const NextRequest& next,
                               const RequestDone& done) {
  DRLLM_CHECK(options.max_batch >= 1, "--batch must be at least 1, got ", options.max_batch);
  BatchRunStats stats;
  // On a backbone split into S pipeline stages, S cohorts of up to max_batch sequences take turns: while the later
  // stages run one cohort's step, the driver runs the next cohort's (a round-robin of sequences across forward
  // calls, docs/pipeline-stages.md). A whole model has one cohort.
  const size_t count = static_cast<size_t>(backbone.micro_batches());
  std::vector<std::list<Slot>> cohorts(count);
  std::deque<std::pair<size_t, Backbone::StartedBatch>> in_flight;  // calls finish in the order they started
  size_t memory = 0;
  std::optional<GenerationRequest> waiting;  // taken from the queue but not yet admitted (memory)

  // Takes requests into a cohort while it has a free slot and their memory fits.
  auto refill = [&](std::list<Slot>& slots) {
    while (static_cast<int64_t>(slots.size()) < options.max_batch) {
      if (!waiting) waiting = next();
      if (!waiting) break;
      GenerationRequest& r = *waiting;
      DRLLM_CHECK(!r.prompt.empty(), "generate: the prompt is empty");
      DRLLM_CHECK(r.source, "generate: request ", r.tag, " has no plan source");
      check_budget(r.options);
      if (r.options.max_new_tokens == 0) {
        done(r, Generation{});
        waiting.reset();
        continue;
      }
      const int64_t tokens = static_cast<int64_t>(r.prompt.size()) + r.options.max_new_tokens;
      const size_t need = sequence_memory_bytes(backbone.config(), backbone.dtype(), tokens);
      if (options.max_memory_bytes) {
        DRLLM_CHECK(need <= options.max_memory_bytes, "one sequence of ", r.prompt.size(), " prompt tokens and ",
                    r.options.max_new_tokens, " new ones may need ", need >> 20, " MiB, more than the memory budget (",
                    options.max_memory_bytes >> 20, " MiB); raise --max-memory-gb or shorten it");
        if (memory + need > options.max_memory_bytes) break;  // wait until a sequence in flight finishes
      }
      KvCache cache = backbone.new_cache(r.options.repeat_kv, tokens);
      Slot slot{std::move(r), std::move(cache), {}, {}, need};
      slot.next_tokens = at::tensor(slot.request.prompt, at::kLong);
      memory += need;
      slots.push_back(std::move(slot));
      waiting.reset();
      ++stats.sequences;
    }
  };
  // One step of a cohort: every sequence in it, each along its own plan.
  auto start = [&](size_t c) {
    std::list<Slot>& slots = cohorts[c];
    stats.most_in_flight = std::max(stats.most_in_flight, static_cast<int64_t>(slots.size()));
    std::vector<Backbone::SequenceStep> steps;
    for (Slot& s : slots) {
      const auto& call_cache = s.request.options.layer_cache_for_call;
      steps.push_back({s.next_tokens, s.request.source, &s.cache,
                       call_cache ? call_cache(s.generation.tokens) : nullptr});
    }
    in_flight.emplace_back(c, backbone.start_batch(steps));
    stats.most_calls_in_flight = std::max(stats.most_calls_in_flight, static_cast<int64_t>(in_flight.size()));
    ++stats.forward_calls;
    stats.sequence_steps += static_cast<int64_t>(steps.size());
  };
  // The oldest call's tokens: finished sequences leave (their slots free), the others take their next token.
  auto finish = [&]() {
    auto [c, started] = std::move(in_flight.front());
    in_flight.pop_front();
    std::vector<Backbone::Forward> forwards = backbone.finish_batch(started);
    size_t i = 0;
    for (auto it = cohorts[c].begin(); it != cohorts[c].end(); ++i) {
      Slot& s = *it;
      s.generation.layer_visits += forwards[i].plan.executed();
      const TokenId token = greedy_token(forwards[i].logits, s.generation, s.request.options);
      if (append_and_check_end(s.generation, token, s.request.options)) {
        memory -= s.memory;
        done(s.request, std::move(s.generation));
        it = cohorts[c].erase(it);
        continue;
      }
      s.next_tokens = at::full({1}, token, at::kLong);
      ++it;
    }
    return c;
  };
  // Refills and starts the idle cohorts, `last` (the one just finished) after the others, so that new requests go
  // first to a cohort that would otherwise wait.
  auto start_idle = [&](size_t last) {
    for (size_t k = 1; k <= count; ++k) {
      const size_t c = (last + k) % count;
      const bool busy = std::any_of(in_flight.begin(), in_flight.end(), [c](const auto& call) { return call.first == c; });
      if (busy) continue;
      refill(cohorts[c]);
      if (!cohorts[c].empty()) start(c);
    }
  };

  if (options.abandon && options.abandon()) return stats;
  start_idle(count - 1);
  while (!in_flight.empty()) {
    const size_t c = finish();
    // Abandoned: the calls in flight still finish (the stages reply in order), but nothing new starts.
    if (options.abandon && options.abandon()) continue;
    start_idle(c);
  }
  return stats;
}

std::vector<Generation> generate_batched(Backbone& backbone, std::vector<GenerationRequest> requests,
                                         const BatchOptions& options) {
  std::vector<Generation> out(requests.size());
  size_t taken = 0;
  for (size_t i = 0; i < requests.size(); ++i) requests[i].tag = i;
  generate_batched(
      backbone, options,
      [&]() -> std::optional<GenerationRequest> {
        if (taken == requests.size()) return std::nullopt;
        return std::move(requests[taken++]);
      },
      [&](GenerationRequest& r, Generation g) { out[r.tag] = std::move(g); });
  return out;
}

}  // namespace drllm::model
