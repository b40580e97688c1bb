// Trainer: the routers trained data-parallel over the job's ranks (docs/method.md, docs/architecture.md).
// Each optimizer step takes the next `batch` examples of a permutation seeded by (seed, epoch); rank r takes
// every world-th of them, in micro-batches (gradient accumulation), so 1 rank and N ranks see the same global
// batches. The gradients of all routers, flattened into one buffer with the step's loss, are summed across
// ranks (one collective) and divided by the global batch. AdamW, warm-up then cosine.
// Checkpoints every N steps, at the end and on SIGUSR1/SIGTERM (all ranks agree at the next step, then exit 0);
// a rerun resumes from the newest checkpoint that verifies and continues bit for bit.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>
#include <string>

#include "checkpoints/background_save.h"
#include "checkpoints/checkpoint_store.h"
#include "dist/communicator.h"
#include "dist/runtime.h"
#include "routing/router_bank.h"
#include "train/adamw.h"
#include "train/input_prefetch.h"
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
  bool checkpoint_sync = false;  // write every checkpoint before the next step (default: in the background)
  int64_t max_steps = 0;     // stop after this many steps in all (0: the whole schedule); not part of the config
  std::string device = "cpu";
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

// One optimizer step, as train_step() reports it.
struct StepOutcome {
  double loss = 0;                     // the global batch's mean loss (summed over ranks)
  bool stop = false;                   // some rank was asked to stop: every rank stops after this step
  int64_t samples = 0;                 // examples in the global batch
  std::vector<int64_t> batch;          // their rows, in the epoch's order
  std::vector<at::Tensor> gradients;   // w1, b1, w2, b2: summed over ranks, divided by the global batch
};

// The training loop in torchtitan's shape: construct (initial weights, or resume from the newest checkpoint that
// verifies) -> train() -> train_step() per step -> checkpoints -> the metrics at each epoch's end. The constructor
// and every step are collectives over the job's ranks.
class Trainer {
 public:
  Trainer(const dist::Runtime& runtime, dist::Communicator& comm, const RouterData& train_set,
          const RouterData& held_out, TrainOptions options, TrainIdentity identity, std::string run_dir);

  // Steps until the schedule (or max_steps) is done or a stop signal arrives; checkpoints as configured.
  TrainResult train();
  // One optimizer step on the next global batch: forward and backward on this rank's share (in micro-batches),
  // one all-reduce of every gradient with the loss and the stop flag, then AdamW with the scheduled rate.
  StepOutcome train_step();

  int64_t step() const { return step_; }
  int64_t last_step() const { return last_step_; }
  const routing::RouterBank& routers() const { return bank_; }
  const at::Tensor& class_weights() const { return alpha_; }

 private:
  std::string end_epoch(int64_t epoch);  // the epoch's line for rank 0 to print ("" elsewhere)
  // A checkpoint of this step, written in the background unless `wait_for_disk` (then every rank waits for it).
  void checkpoint(bool wait_for_disk);
  bool try_resume();
  std::vector<int64_t> rank_rows(int64_t step) const;  // the examples of step `step` that this rank computes

  const dist::Runtime& runtime_;
  dist::Communicator& comm_;
  const RouterData& train_set_;
  const RouterData& held_out_;
  TrainOptions o_;
  TrainIdentity id_;
  std::string run_dir_;
  checkpoints::CheckpointStore store_;
  checkpoints::BackgroundSave saver_;  // rank 0's: the save in flight
  InputPrefetch prefetch_;             // the next step's inputs, read while this step computes
  at::Device device_;
  int64_t L_, d_, n_, steps_per_epoch_, total_steps_, last_step_;
  at::Tensor alpha_;
  routing::RouterBank bank_;
  std::unique_ptr<AdamW> optimizer_;
  int64_t step_ = 0, saved_at_ = 0;
  std::vector<int64_t> order_;
  int64_t order_epoch_ = -1;
  double epoch_loss_ = 0;
  std::string metrics_path_;
  std::vector<std::string> metric_lines_;
  std::vector<double> metric_times_;  // when each line was computed (a resumed run's earlier lines: at the resume)
};

// Trainer(...).train().
TrainResult train_routers(const dist::Runtime& runtime, dist::Communicator& comm, const RouterData& train_set,
                          const RouterData& held_out, const TrainOptions& options, const TrainIdentity& identity,
                          const std::string& run_dir);

// The routers of a run's newest valid checkpoint, on the CPU.
routing::RouterBank load_run_routers(const std::string& run_dir, std::string* fingerprint = nullptr);

}  // namespace drllm::train
