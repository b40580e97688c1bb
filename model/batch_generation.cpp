#include "model/batch_generation.h"

#include <algorithm>
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
  std::list<Slot> slots;
  size_t memory = 0;
  std::optional<GenerationRequest> waiting;  // taken from the queue but not yet admitted (memory)
  while (!(options.abandon && options.abandon())) {
    // Refill: take requests while a slot is free and their memory fits.
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
    if (slots.empty()) break;
    stats.most_in_flight = std::max(stats.most_in_flight, static_cast<int64_t>(slots.size()));

    // One step: every sequence in flight, each along its own plan.
    std::vector<Backbone::SequenceStep> steps;
    for (Slot& s : slots) {
      const auto& call_cache = s.request.options.layer_cache_for_call;
      steps.push_back({s.next_tokens, s.request.source, &s.cache,
                       call_cache ? call_cache(s.generation.tokens) : nullptr});
    }
    std::vector<Backbone::Forward> forwards = backbone.forward_batch(steps);
    ++stats.forward_calls;
    stats.sequence_steps += static_cast<int64_t>(steps.size());

    size_t i = 0;
    for (auto it = slots.begin(); it != slots.end(); ++i) {
      Slot& s = *it;
      s.generation.layer_visits += forwards[i].plan.executed();
      const TokenId token = greedy_token(forwards[i].logits, s.generation, s.request.options);
      if (append_and_check_end(s.generation, token, s.request.options)) {
        memory -= s.memory;
        done(s.request, std::move(s.generation));
        it = slots.erase(it);
        continue;
      }
      s.next_tokens = at::full({1}, token, at::kLong);
      ++it;
    }
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
