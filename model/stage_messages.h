// StageMessage: what pipeline stages send each other (docs/pipeline-stages.md). The driver (stage 0) runs its
// layers, then hands the next stage a Forward: each sequence's cache handle, position, new-token count and plan,
// and the hidden states [N, D] of all the sequences packed. Each stage runs its layers and passes the states on;
// the last applies the final norm and lm_head and replies to the driver with the logits. Stop ends the stages.
// Caches the driver has freed travel as `released` handles with the next message. Kept to plain bytes so that any
// transport (MPI here, NCCL later) carries it; a message that does not parse is an error, never a guess.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "model/kv_cache.h"

namespace drllm::model {

struct StageSequence {
  uint64_t handle = 0;       // the driver's KvCache: each stage keeps its own slots for it
  int64_t start = 0;         // positions already cached (0: a prefill into an empty cache)
  int64_t length = 0;        // new tokens
  bool all_positions = false;  // logits of every new position, not only the last
  bool observe = false;        // send back the state entering each layer (router inputs along a fixed plan)
  RepeatKv repeat = RepeatKv::Shared;
  int64_t expected_tokens = 256;
  std::vector<uint8_t> counts;  // the whole plan (each stage reads its own layers)
  // Routed: each stage's routers decide its layers by knob p, writing their decisions into `counts` (which the
  // reply brings back) and adding their time to router_seconds.
  bool route = false;
  double knob = 0;
  double router_seconds = 0;
};

// A state a stage saw entering one of its layers, for an observing sequence.
struct ObservedState {
  int64_t sequence = 0, layer = 0;
  int64_t pass = 0;
  at::Tensor state;  // [t, D]
};

struct StageMessage {
  enum class Kind : int64_t { Forward = 1, Reply = 2, Stop = 3 };
  Kind kind = Kind::Forward;
  // The driver's number for a Forward, which every stage passes on and the reply carries: the driver may have
  // several calls in flight and start another (a prefill while cohorts' steps are out), so it matches replies
  // by ticket, not by order.
  uint64_t ticket = 0;
  std::vector<uint64_t> released;
  int64_t layer_visits = 0, blocks = 0;  // computed by the stages after the driver so far
  std::vector<StageSequence> sequences;  // Forward; Reply: the plans as the stages ran them
  at::Tensor tensor;                     // Forward: hidden states [N, D]; Reply: logits [M, V] (float32)
  std::vector<ObservedState> observed;   // in the order the states were seen
};

std::vector<uint8_t> encode_stage_message(const StageMessage& message);
// Tensors come back on `device`. A truncated or malformed message throws an Error saying what is wrong.
StageMessage decode_stage_message(const std::vector<uint8_t>& bytes, at::Device device);

// Where a driver's stage messages go: the next stage in, the last stage's reply out. send() returns without
// waiting for the stages, so the driver can compute the next micro-batch while they run this one; the replies
// come back from receive() in the order the Forwards were sent (the driver matches them by ticket).
class StageLink {
 public:
  virtual ~StageLink() = default;
  virtual void send(const StageMessage& forward) = 0;
  virtual StageMessage receive() = 0;
  virtual void stop(const std::vector<uint64_t>& released) = 0;
};

}  // namespace drllm::model
