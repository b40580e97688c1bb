#include "eval/evaluation.h"
#include "common/console.h"

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "model/compute_dtype.h"
#include "model/model_files.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/tasks/dataset.h"
#include "data/tasks/task.h"
#include "dist/pipeline.h"
#include "dist/runtime.h"
#include "eval/eval_pass.h"
#include "eval/evaluator.h"
#include "eval/report.h"
#include "routing/routed_generation.h"

namespace drllm::eval {

nlohmann::json run_evaluation(const EvaluationOptions& o, dist::Runtime& runtime, int threads) {
  const tasks::Task& task = tasks::find_task(o.task);

  // 1. The examples.
  tasks::ReadOptions read;
  read.format = o.format.empty() ? task.format : tasks::parse_dataset_format(o.format);
  read.limit = o.limit;
  read.skip_bad_rows = o.skip_bad_rows;
  if (!o.field_map.empty()) read.mapping = tasks::FieldMapping::parse(o.field_map);
  tasks::DatasetReadResult loaded = tasks::read_dataset(o.data, read);
  if (loaded.skipped) {
    log_warning() << "skipped " << loaded.skipped << " bad rows of " << o.data << ", first:\n";
    for (const std::string& why : loaded.skip_reasons) log_warning() << "  " << why << "\n";
  }
  DRLLM_CHECK(!loaded.examples.empty(), o.data, ": no examples");

  // 2. The evaluator: model, tokenizer, the task's prompt or shots, routers.
  EvalSetup setup;
  const model::ModelFiles files = model::ModelFiles::open(o.model);
  setup.files = &files;
  setup.task = &task;
  setup.model_input.instruct = o.instruct;
  setup.model_input.chat_template = o.chat_template;
  setup.model_input.prompt_template = o.prompt_template;
  setup.model_input.max_new_tokens = o.max_new_tokens;
  setup.plan = o.plan;
  // With pipeline stages each rank loads its stage; the later stages serve their driver until it is done, and
  // the drivers evaluate as the ranks of a job without stages.
  dist::Pipeline pipeline(runtime, o.pipeline_stages);
  setup.backbone = pipeline.stage_options(o.backbone);
  setup.routing = o.routing;
  setup.batch = o.batch;
  Evaluator evaluator(std::move(setup));
  if (!pipeline.drives()) {
    // Routed: this stage's routers decide its layers for the driver's routed passes.
    if (!o.routers.empty())
      routing::route_on_stage(evaluator.backbone(),
                              routing::load_routers_for(o.routers, evaluator.backbone(), files.fingerprint()));
    pipeline.serve(evaluator.backbone());
    return {};
  }
  pipeline.drive(evaluator.backbone());
  if (task.num_fewshot > 0) {
    DRLLM_CHECK(!o.fewshot_data.empty(), "--task ", task.name, " needs --fewshot-data (the train file whose first ",
                task.num_fewshot, " rows are the shots)");
    evaluator.load_shots(o.fewshot_data);
  }
  if (!o.routers.empty()) evaluator.load_routers(o.routers);
  const bool run_unrouted = o.routers.empty() || o.compare_unrouted;
  if (runtime.is_root()) {
    std::filesystem::create_directories(o.out);
    log_info() << "eval " << task.name << " on " << loaded.examples.size() << " examples of " << o.data << " with "
              << o.model << (evaluator.instruct() ? " (instruct)" : " (base)") << " in "
              << model::dtype_name(evaluator.dtype()) << ", " << threads << " threads"
              << (runtime.size() > 1 ? cat(" x ", runtime.size(), " ranks") : std::string())
              << (o.routers.empty() ? ""
                  : (run_unrouted ? ", unrouted then routed by " : ", routed (only) by ") + o.routers) << "\n";
  }

  // 3. The passes: unrouted, then routed on the same examples.
  EvalPass unrouted;
  if (run_unrouted)
    unrouted = run_eval_pass(evaluator, loaded.examples, runtime, false, o.routers.empty() ? "" : "unrouted ");
  EvalPass routed;
  if (!o.routers.empty()) routed = run_eval_pass(evaluator, loaded.examples, runtime, true, "routed   ");

  // 4. The reports, on rank 0.
  if (!runtime.is_root()) return {};
  nlohmann::json report = {{"task", task.name},          {"data", o.data},
                           {"model", o.model},           {"examples", loaded.examples.size()},
                           {"limit", o.limit},
                           {"device", o.backbone.device}, {"dtype", model::dtype_name(evaluator.dtype())},
                           {"ranks", runtime.size()},    {"skipped_rows", loaded.skipped}};
  if (run_unrouted)
    write_file_atomically(o.out + "/examples.jsonl", [&](std::ostream& out) { out << unrouted.records; });
  if (o.routers.empty()) {
    report["plan"] = evaluator.plan().to_string();
    report.update(unrouted.summary);
  } else {
    report["routers"] = o.routers;
    report["router_p"] = o.routing.p;
    if (run_unrouted) report["unrouted"] = unrouted.summary;
    report["routed"] = routed.summary;
    write_file_atomically(o.out + "/examples-routed.jsonl", [&](std::ostream& out) { out << routed.records; });
    write_eval_reports(o.out, report, routed.plans);
  }
  write_file_atomically(o.out + "/report.json", [&](std::ostream& out) { out << report.dump(2) << "\n"; });
  return report;
}

}  // namespace drllm::eval
