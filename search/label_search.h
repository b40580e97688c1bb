// The label search as a job: every rank of the job takes examples from a work queue, searches each one's layer
// plans (ExampleLabeller) and commits its rows to its own shards in the label folder; examples already in the
// folder are skipped, so running the same job again resumes it. SIGUSR1/SIGTERM: each rank ends its current step,
// commits and returns. At the end rank 0 writes the folder's manifest.json and summary.json.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "dist/runtime.h"
#include "model/batch_generation.h"
#include "model/load_options.h"
#include "search/mcts.h"

namespace drllm::search {

struct LabelSearchOptions {
  std::string model;  // model folder or .gguf
  model::LoadOptions backbone;  // device and compute dtype (recorded in the shards' search config)
  std::string data, format, task = "arc", out = "runs/labels", instruct = "auto", chat_template;
  std::string policy = "tree", repeat_kv = "shared";
  size_t limit = 0;
  int64_t max_new_tokens = 0;  // 0: 15 for math, 10 for ARC with instruct models, 2 with base models
  bool skip_bad_rows = false, save_features = false;
  size_t prefix_cache_mb = 1024;
  bool generate_in_full = false;
  int chunk = 2, shard_rows = 32;
  double shard_minutes = 10;
  search::MctsOptions mcts;
  // Examples searched at once, their evaluations batched (search/batched_search.h); the labels do not depend
  // on it. With a memory budget (bytes, 0: none) for the sequences in flight.
  model::BatchOptions batch;
  // Pipeline stages (dist/pipeline.h): each pipeline of this many ranks searches as one labeller.
  int pipeline_stages = 1;
};

// Runs on every rank of `runtime` (a collective). `threads` is only reported. Returns the summary on rank 0
// (empty elsewhere).
nlohmann::json run_label_search(LabelSearchOptions options, dist::Runtime& runtime, int threads);

}  // namespace drllm::search
