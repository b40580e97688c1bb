// drllm eval: accuracy of the model (all layers, one --plan, or routed) on a data file, scored as the task says
// (data/tasks/task.h: `drllm eval --help` lists the tasks). Writes OUT/report.json and OUT/examples.jsonl (with
// --routers also examples-routed.jsonl, report.md and routing.svg); prints progress and the summary.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "data/tasks/task.h"
#include "dist/runtime.h"
#include "eval/evaluation.h"

namespace drllm::cli {
namespace {

struct EvalOptions {
  eval::EvaluationOptions job;
  BatchFlags batch;
  EvalOptions() { job.model = default_model_dir(); }
};

void run_eval(const EvalOptions& o, const CommonOptions& common) {
  dist::Runtime runtime;
  const int threads = configure_threads(common.threads);
  eval::EvaluationOptions job = o.job;
  job.batch.max_batch = o.batch.batch_for(job.backbone.device);
  job.batch.max_memory_bytes = o.batch.memory_bytes();
  nlohmann::json report = eval::run_evaluation(job, runtime, threads);
  if (runtime.is_root()) std::cout << report.dump(2) << std::endl;
}

std::string task_list() {
  std::string out;
  for (const tasks::Task& t : tasks::all_tasks()) out += "\n  " + t.name + ": " + t.summary;
  return out;
}

}  // namespace

void add_eval(CLI::App& app, const CommonOptions& common) {
  auto* cmd = app.add_subcommand("eval", "accuracy on a data file, scored as the task says (--task)");
  auto o = std::make_shared<EvalOptions>();
  cmd->footer("Tasks:" + task_list());
  cmd->add_option("--model", o->job.model, kModelHelp)->capture_default_str();
  cmd->add_option("--data", o->job.data, "JSONL data file (TruthfulQA: its CSV too)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--task", o->job.task, "the task (listed below)")
      ->capture_default_str()->check(CLI::IsMember(tasks::task_names()));
  cmd->add_option("--format", o->job.format,
                  "data format: arc, gsm8k, mmlu, piqa, openbookqa, dart, truthfulqa, generic (default: the task's)");
  cmd->add_option("--fewshot-data", o->job.fewshot_data, "few-shot tasks (gsm8k): the train file whose first rows are the shots");
  cmd->add_option("--limit", o->job.limit, "first N examples only (0: all)")->capture_default_str();
  cmd->add_option("--instruct", o->job.instruct, "auto (from the model name), yes or no")
      ->capture_default_str()->check(CLI::IsMember({"auto", "yes", "no"}));
  cmd->add_option("--chat-template", o->job.chat_template, "template by name (default: the model's)");
  add_backbone_options(cmd, o->job.backbone);
  add_batch_options(cmd, o->batch, "examples generated or scored");
  cmd->add_option("--pipeline-stages", o->job.pipeline_stages,
                  "split the backbone into S stages of consecutive layers, one per rank, under mpirun -np N with N a "
                  "multiple of S (docs/pipeline-stages.md): N/S pipelines evaluate as N/S ranks; with --routers each "
                  "stage's routers decide its layers")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--plan", o->job.plan, "layer plan (default: every layer once)");
  cmd->add_option("--routers", o->job.routers, "routers (drllm export-routers): evaluate unrouted and routed on the "
                                           "same examples; writes report.json, report.md and routing.svg");
  cmd->add_flag("--routed-only", [o](int64_t) { o->job.compare_unrouted = false; },
                "with --routers: skip the unrouted pass (report.json then has \"routed\" alone)");
  cmd->add_option("--router-p", o->job.routing.p, "router knob p in [-1, 1] (-0.5: the pure router, 0.5: always execute)")
      ->capture_default_str()->check(CLI::Range(-1.0, 1.0));
  cmd->add_option("--max-new-tokens", o->job.max_new_tokens, "override the task's generation budget");
  cmd->add_option("--out", o->job.out, "output folder")->capture_default_str();
  cmd->add_option("--prompt-template", o->job.prompt_template,
                  "arc/math: prompt template file ({question}, {choices_text}, {answer}; {{ }} for braces)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--skip-bad-rows", o->job.skip_bad_rows, "skip malformed rows (and report them) instead of stopping");
  cmd->add_option("--field-map", o->job.field_map, "generic format: e.g. question=q,answer=a,choices=opts,gold=label,id=uid");
  cmd->callback([o, &common] { run_eval(*o, common); });
}

}  // namespace drllm::cli
