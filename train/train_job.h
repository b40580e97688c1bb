// Router training as a job: the label folders (one, or several trained together), the routers' inputs along the
// labelled plans (the search's cached features, or the backbone run online), a held-out split, the data-parallel
// trainer across the job's ranks, and the finished routers written beside the checkpoints. Running the same job
// again resumes from the newest checkpoint that verifies.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dist/runtime.h"
#include "train/trainer.h"

namespace drllm::train {

struct TrainJobOptions {
  std::vector<std::string> labels = {"runs/labels"};  // label folders, all of one model
  std::string out = "runs/train";
  std::string inputs = "auto";  // cached, online, or auto (cached when every folder has features)
  std::string model;            // the backbone, for online inputs
  std::string backbone_dtype = "auto";  // its compute dtype (online inputs); it runs on train.device
  int64_t holdout_every = 10;   // hold out every N-th example for the metrics (0: none)
  std::string examples = "all";  // all, or correct: only the examples whose best plan answers right (the paper's)
  // A bound on the router inputs' memory on each rank, in GB (0: none, every input held in memory). With a bound,
  // cached inputs stream from the shards: each rank reads only its rows of each step, the next step's on a
  // thread; the buffers that takes must fit the bound.
  double max_memory_gb = 0;
  // Online inputs on a backbone split into S pipeline stages (docs/pipeline-stages.md): each pipeline's driver
  // trains as one rank of a job without stages, the later stages serve its forward calls until the inputs are
  // computed, then leave.
  int pipeline_stages = 1;
  TrainOptions train;
};

// Runs on every rank of `runtime` (a collective; with pipeline stages it splits the runtime). Returns what the run
// did (on every rank; a serving stage's says only that it served).
nlohmann::json run_training(const TrainJobOptions& options, dist::Runtime& runtime);

}  // namespace drllm::train
