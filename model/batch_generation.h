// Greedy generation of many sequences at once (continuous batching): up to `max_batch` sequences, each with its
// own prompt, plan source, budget and stop rules, advance together, one Backbone::forward_batch call a step.
// A sequence that finishes (a stop token, its budget, its stop_when) leaves the batch at once and its slot is
// refilled from the caller's queue in the same step, the newcomer's prefill packed in with the others' decode
// tokens; so the batch stays full while there is work. Each sequence's tokens equal generate_greedy()'s for it.
// The batch is also bounded by memory: each sequence reserves the most KV cache its budget could fill (every
// layer run twice), and one that alone exceeds the budget is an error naming both sizes.
// On a backbone split into S pipeline stages, S such batches (cohorts) take turns, one forward call of each in
// flight, so the stages compute at once: up to S x max_batch sequences are in flight then
// (Backbone::micro_batches() cohorts: S unless DRLLM_MICRO_BATCHES says otherwise).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "model/generate.h"

namespace drllm::model {

// One sequence to generate. The plan source (and anything options' callbacks refer to) must live until the
// request is done. Two sequences of one batch must not share a LayerResultCache that keeps per-call state
// (search/prefix_cache.h's does): each example of a batched search has its own.
struct GenerationRequest {
  std::vector<TokenId> prompt;
  PlanSource* source = nullptr;
  GenerationOptions options;  // as generate_greedy takes them
  uint64_t tag = 0;           // the caller's: which request this is
};

struct BatchOptions {
  int64_t max_batch = 8;
  size_t max_memory_bytes = 0;  // KV cache and activations of the sequences in flight; 0: no bound
  // Checked before each step: true ends the run at once, the sequences in flight dropped unfinished (a
  // preempted search commits what is done and redoes the rest when rerun).
  std::function<bool()> abandon;
};

// Asked whenever a slot is free: the next request, or nullopt if there is none now.
using NextRequest = std::function<std::optional<GenerationRequest>()>;
// Called as each sequence finishes, in the order they finish; it may make new requests available to NextRequest.
using RequestDone = std::function<void(GenerationRequest& request, Generation generation)>;

struct BatchRunStats {
  int64_t forward_calls = 0;
  int64_t sequence_steps = 0;  // sequences summed over the calls (the mean batch is their ratio)
  int64_t sequences = 0;
  int64_t most_in_flight = 0;  // the largest batch a call ran
  int64_t most_calls_in_flight = 0;  // forward calls started and not yet finished, at most (cohorts taking turns)
};

// Runs until no sequence is in flight and NextRequest has none (or `abandon` says so).
BatchRunStats generate_batched(Backbone& backbone, const BatchOptions& options, const NextRequest& next,
                               const RequestDone& done);

// The same for a list known up front: the generations in the requests' order.
std::vector<Generation> generate_batched(Backbone& backbone, std::vector<GenerationRequest> requests,
                                         const BatchOptions& options);

// The memory one sequence of `tokens` positions may need in flight: the KV cache with every layer run twice, and
// the activations of its prefill.
size_t sequence_memory_bytes(const ModelConfig& config, at::ScalarType dtype, int64_t tokens);

}  // namespace drllm::model
