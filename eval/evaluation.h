// An evaluation as a job: a task's examples read from a data file, scored by the model along a fixed plan and,
// with routers, routed on the same examples; spread over the job's ranks; rank 0 writes OUT/report.json and
// OUT/examples.jsonl (with routers also examples-routed.jsonl, report.md and routing.svg).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "dist/runtime.h"
#include "model/load_options.h"
#include "routing/routed_generation.h"

namespace drllm::eval {

struct EvaluationOptions {
  std::string model;  // model folder or .gguf
  model::LoadOptions backbone;  // device and compute dtype
  std::string data, format, task = "arc", out = "runs/eval";
  std::string fewshot_data;  // few-shot tasks: the train file the shots come from
  std::string instruct = "auto", chat_template, plan;
  size_t limit = 0;
  int64_t max_new_tokens = 0;  // 0: the task's default
  bool skip_bad_rows = false;
  std::string field_map;        // generic format: question=...,answer=...
  std::string prompt_template;  // Dr.LLM's setting: a user template file instead of Dr.LLM's
  std::string routers;          // exported routers: evaluate unrouted and routed on the same examples
  routing::RoutingOptions routing;
  bool compare_unrouted = true;  // with routers: run the unrouted pass too (off: the routed pass alone)
  model::BatchOptions batch;  // examples generated or scored at once (results do not depend on it)
  // Pipeline stages (dist/pipeline.h): each pipeline of this many ranks evaluates as one rank. Fixed plans only.
  int pipeline_stages = 1;
};

// Runs on every rank of `runtime` (a collective); `threads` is only reported. Returns the report on rank 0
// (empty elsewhere).
nlohmann::json run_evaluation(const EvaluationOptions& options, dist::Runtime& runtime, int threads);

}  // namespace drllm::eval
