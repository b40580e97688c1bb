// drllm eval: accuracy of the model (all layers, one --plan, or routed) on a data file, scored as the task says
// (data/tasks/task.h: `drllm eval --help` lists the tasks). Writes OUT/report.json and OUT/examples.jsonl (with
// --routers also examples-routed.jsonl, report.md and routing.svg); prints progress and the summary.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_resources.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/tasks/dataset.h"
#include "data/tasks/task.h"
#include "dist/runtime.h"
#include "eval/eval_pass.h"
#include "eval/evaluator.h"
#include "eval/report.h"

namespace drllm::cli {
namespace {

struct EvalOptions {
  std::string model = default_model_dir();
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
};

void run_eval(const EvalOptions& o, const CommonOptions& common) {
  dist::Runtime runtime;
  int threads = configure_threads(common.threads);
  const tasks::Task& task = tasks::find_task(o.task);

  // 1. The examples.
  tasks::ReadOptions read;
  read.format = o.format.empty() ? task.format : tasks::parse_dataset_format(o.format);
  read.limit = o.limit;
  read.skip_bad_rows = o.skip_bad_rows;
  if (!o.field_map.empty()) read.mapping = tasks::FieldMapping::parse(o.field_map);
  tasks::DatasetReadResult loaded = tasks::read_dataset(o.data, read);
  if (loaded.skipped) {
    std::cerr << "skipped " << loaded.skipped << " bad rows of " << o.data << ", first:\n";
    for (const std::string& why : loaded.skip_reasons) std::cerr << "  " << why << "\n";
  }
  DRLLM_CHECK(!loaded.examples.empty(), o.data, ": no examples");

  // 2. The evaluator: model, tokenizer, the task's prompt or shots, routers.
  eval::EvalSetup setup;
  setup.model = o.model;
  setup.tokenizer = tokenizer_path_for(o.model, "");
  setup.task = &task;
  setup.instruct = tasks::resolve_instruct(o.instruct, o.model);
  if (task.scoring == tasks::Scoring::DrllmReward) {
    if (setup.instruct) setup.chat = chat_template_for(o.model, o.chat_template);
    if (!o.prompt_template.empty())
      setup.prompt = tasks::PromptTemplate::from_file(
          o.prompt_template, setup.instruct ? tasks::ChoiceStyle::Dotted : tasks::ChoiceStyle::Parenthesised);
  }
  setup.plan = o.plan;
  setup.max_new_tokens = o.max_new_tokens;
  setup.routing = o.routing;
  eval::Evaluator evaluator(std::move(setup));
  if (task.num_fewshot > 0) {
    DRLLM_CHECK(!o.fewshot_data.empty(), "--task ", task.name, " needs --fewshot-data (the train file whose first ",
                task.num_fewshot, " rows are the shots)");
    evaluator.load_shots(o.fewshot_data);
  }
  if (!o.routers.empty()) evaluator.load_routers(o.routers);
  if (runtime.is_root()) {
    std::filesystem::create_directories(o.out);
    std::cerr << "eval " << task.name << " on " << loaded.examples.size() << " examples of " << o.data << " with "
              << o.model << (evaluator.setup().instruct ? " (instruct)" : " (base)") << ", " << threads << " threads"
              << (runtime.size() > 1 ? cat(" x ", runtime.size(), " ranks") : std::string())
              << (o.routers.empty() ? "" : ", unrouted then routed by " + o.routers) << "\n";
  }

  // 3. The passes: unrouted, then routed on the same examples.
  eval::EvalPass unrouted =
      eval::run_eval_pass(evaluator, loaded.examples, runtime, false, o.routers.empty() ? "" : "unrouted ");
  eval::EvalPass routed;
  if (!o.routers.empty()) routed = eval::run_eval_pass(evaluator, loaded.examples, runtime, true, "routed   ");

  // 4. The reports, on rank 0.
  if (!runtime.is_root()) return;
  nlohmann::json report = {{"task", task.name},          {"data", o.data},
                           {"model", o.model},           {"examples", loaded.examples.size()},
                           {"ranks", runtime.size()},    {"skipped_rows", loaded.skipped}};
  write_file_atomically(o.out + "/examples.jsonl", [&](std::ostream& out) { out << unrouted.records; });
  if (o.routers.empty()) {
    report["plan"] = evaluator.plan().to_string();
    report.update(unrouted.summary);
  } else {
    report["routers"] = o.routers;
    report["router_p"] = o.routing.p;
    report["unrouted"] = unrouted.summary;
    report["routed"] = routed.summary;
    write_file_atomically(o.out + "/examples-routed.jsonl", [&](std::ostream& out) { out << routed.records; });
    eval::write_eval_reports(o.out, report, routed.plans);
  }
  write_file_atomically(o.out + "/report.json", [&](std::ostream& out) { out << report.dump(2) << "\n"; });
  std::cout << report.dump(2) << std::endl;
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
  cmd->add_option("--model", o->model, "Hugging Face model folder or .gguf file")->capture_default_str();
  cmd->add_option("--data", o->data, "JSONL data file (TruthfulQA: its CSV too)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--task", o->task, "the task (listed below)")
      ->capture_default_str()->check(CLI::IsMember(tasks::task_names()));
  cmd->add_option("--format", o->format,
                  "data format: arc, gsm8k, mmlu, piqa, openbookqa, dart, truthfulqa, generic (default: the task's)");
  cmd->add_option("--fewshot-data", o->fewshot_data, "few-shot tasks (gsm8k): the train file whose first rows are the shots");
  cmd->add_option("--limit", o->limit, "first N examples only (0: all)")->capture_default_str();
  cmd->add_option("--instruct", o->instruct, "auto (from the model name), yes or no")
      ->capture_default_str()->check(CLI::IsMember({"auto", "yes", "no"}));
  cmd->add_option("--chat-template", o->chat_template, "template by name (default: the model's)");
  cmd->add_option("--plan", o->plan, "layer plan (default: every layer once)");
  cmd->add_option("--routers", o->routers, "routers (drllm export-routers): evaluate unrouted and routed on the "
                                           "same examples; writes report.json, report.md and routing.svg");
  cmd->add_option("--router-p", o->routing.p, "router knob p in [-1, 1] (-0.5: the pure router, 0.5: always execute)")
      ->capture_default_str()->check(CLI::Range(-1.0, 1.0));
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "override the task's generation budget");
  cmd->add_option("--out", o->out, "output folder")->capture_default_str();
  cmd->add_option("--prompt-template", o->prompt_template,
                  "arc/math: prompt template file ({question}, {choices_text}, {answer}; {{ }} for braces)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--skip-bad-rows", o->skip_bad_rows, "skip malformed rows (and report them) instead of stopping");
  cmd->add_option("--field-map", o->field_map, "generic format: e.g. question=q,answer=a,choices=opts,gold=label,id=uid");
  cmd->callback([o, &common] { run_eval(*o, common); });
}

}  // namespace drllm::cli
