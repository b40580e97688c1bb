// Trainer: the routers trained data-parallel over the job's ranks (SPEC-drllm §4, DESIGN.md).
// Each optimizer step takes the next `batch` examples of a permutation seeded by (seed, epoch); rank r takes
// every world-th of them, in micro-batches (gradient accumulation), so 1 rank and N ranks see the same global
// batches. The gradients of all routers, flattened into one buffer with the step's loss, are summed across
// ranks (one collective) and divided by the global batch. AdamW, warm-up then cosine.
// Checkpoints every N steps, at the end and on SIGUSR1/SIGTERM (all ranks agree at the next step, then exit 0);
// a rerun resumes from the newest checkpoint that verifies and continues bit for bit.
#pragma once

#include <cstdint>
#include <string>

#include "dist/communicator.h"
#include "dist/runtime.h"
#include "routing/router_bank.h"
#include "train/adamw.h"
#include "train/router_data.h"

namespace drllm::train {

struct TrainOptions {
  int64_t epochs = 25;
  int64_t batch = 16;        // effective (global) batch
  int64_t micro_batch = 4;   // examples per forward/backward on a rank
  AdamWOptions adamw;
  int64_t warmup = 500;
  double gamma = 2.0, beta = 0.999;
  uint64_t seed = 0;
  int64_t checkpoint_every = 50;
  int keep_checkpoints = 3;
  int64_t max_steps = 0;     // stop after this many steps in all (0: the whole schedule); not part of the config
  std::string device = "cpu";
  std::string dump_first_gradients;  // write the first step's summed gradient (safetensors) for parity tests
  std::string config_json() const;   // what a resumed run must share with the checkpoint
};

// What ties a run to its data: checkpoints of another model or label set are refused.
struct TrainIdentity {
  std::string model_fingerprint, labels_hash, inputs;  // inputs: "cached" | "online" (same routers either way)
};

struct TrainResult {
  int64_t steps = 0;         // optimizer steps done in all
  bool finished = false;     // the schedule (or max_steps) is complete
  bool stopped = false;      // a stop signal ended it early (checkpointed)
  double seconds = 0;
  int64_t samples_this_run = 0;
};

TrainResult train_routers(const dist::Runtime& runtime, dist::Communicator& comm, const RouterData& train_set,
                          const RouterData& held_out, const TrainOptions& options, const TrainIdentity& identity,
                          const std::string& run_dir);

// The routers of a run's newest valid checkpoint, on the CPU.
routing::RouterBank load_run_routers(const std::string& run_dir, std::string* fingerprint = nullptr);

}  // namespace drllm::train
