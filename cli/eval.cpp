// drllm eval: accuracy of the model (all layers, or one --plan) on a data file, in one of these tasks:
//   arc          Dr.LLM's ARC prompt (chat template for instruct models), greedy letter answer, its regex grader
//   math         Dr.LLM's math prompt, \boxed{} answer graded by mathruler's grade_answer (gold: DART gt_ans or
//                GSM8K's final number)
//   gsm8k        lm-evaluation-harness gsm8k: 5-shot (the first five train rows), 256 tokens, strict and flexible
//                exact match
//   arc-ll, piqa, openbookqa, mmlu   lm-evaluation-harness log-likelihood multiple choice: acc and acc_norm
// Writes OUT/report.json and OUT/examples.jsonl; prints a progress line and the summary.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_resources.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/strings.h"
#include "dist/runtime.h"
#include "data/dataset.h"
#include "data/grading.h"
#include "data/lm_eval.h"
#include "data/prompts.h"
#include "data/unicode.h"
#include "model/backbone.h"
#include "model/generate.h"
#include "cli/eval_report.h"
#include "model/fingerprint.h"
#include "model/loglikelihood.h"
#include "model/routed_generation.h"
#include "search/plan_evaluator.h"

namespace drllm::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct EvalOptions {
  std::string model = default_model_dir();
  std::string data, format, task = "arc", out = "runs/eval";
  std::string fewshot_data;  // gsm8k: the train file the shots come from
  std::string instruct = "auto", chat_template, plan;
  size_t limit = 0;
  int64_t max_new_tokens = 0;  // 0: the task's default
  bool skip_bad_rows = false;
  std::string field_map;       // generic format: question=...,answer=...
  std::string prompt_template;  // arc/math: a user template file instead of Dr.LLM's
  std::string routers;          // exported routers: evaluate unrouted and routed on the same examples
  model::RoutingOptions routing;
};

bool is_instruct(const EvalOptions& o) {
  if (o.instruct != "auto") return o.instruct == "yes";
  return data::is_instruct_model_name(std::filesystem::path(o.model).filename().string());
}

std::string default_format(const std::string& task) {
  if (task == "arc" || task == "arc-ll") return "arc";
  if (task == "gsm8k" || task == "math") return "gsm8k";
  return task;  // piqa, openbookqa, mmlu
}

class Evaluator {
 public:
  explicit Evaluator(const EvalOptions& o)
      : o_(o),
        backbone_(model::Backbone::load(o.model)),
        tokenizer_(data::Tokenizer::from_file(tokenizer_path_for(o.model, ""))),
        plan_(o.plan.empty() ? model::LayerPlan::all_execute(backbone_.config().num_layers)
                             : model::LayerPlan::parse(o.plan)),
        instruct_(is_instruct(o)) {
    plan_.check_length(backbone_.config().num_layers);
    if (o.task == "arc" || o.task == "math") {
      // Dr.LLM's own setting: its prompts and rewards, evaluated exactly as the search evaluates a plan.
      bool arc = o.task == "arc";
      if (instruct_) chat_ = chat_template_for(o.model, o.chat_template);
      prompt_ = o.prompt_template.empty()
                    ? data::PromptTemplate::drllm(arc ? "arc" : "math", instruct_)
                    : data::PromptTemplate::from_file(o.prompt_template, instruct_ ? data::ChoiceStyle::Dotted
                                                                                    : data::ChoiceStyle::Parenthesised);
      int64_t max_new = o.max_new_tokens ? o.max_new_tokens : (arc ? (instruct_ ? 10 : 2) : 15);
      drllm_evaluator_.emplace(backbone_, tokenizer_, search::GenerationBudget{max_new, 2});
    }
  }

  // Scores one example; returns its record (the "correct" field is what accuracy counts). With `routed`, the
  // routers choose the example's plan from its prompt (decided at prefill, frozen for decoding).
  nlohmann::json run(const data::Example& ex, bool routed = false) {
    routed_ = routed;
    nlohmann::json record;
    if (o_.task == "arc" || o_.task == "math") record = drllm_task(ex);
    else if (o_.task == "gsm8k") record = gsm8k(ex);
    else record = multiple_choice(ex);
    if (routed) record["plan"] = used_plan_.to_string();
    return record;
  }

  void load_routers(const std::string& path) {
    routers_ = model::load_routers_for(path, backbone_, model::summarize_checkpoint(o_.model).fingerprint);
  }
  void reset_counts() { generated_tokens_ = layer_visits_ = forward_passes_ = 0; router_seconds_ = 0; }
  int64_t forward_passes() const { return forward_passes_; }
  double router_seconds() const { return router_seconds_; }
  int64_t generated_tokens() const { return generated_tokens_; }
  int64_t layer_visits() const { return layer_visits_; }
  bool instruct() const { return instruct_; }
  const model::LayerPlan& plan() const { return plan_; }

  // gsm8k: the few-shot block from the first five rows of a train file (lm-eval samples five with Python's
  // random.Random(1234); bit parity would need Python's MT19937 sampling, so drllm takes the first five).
  void load_shots(const std::string& path) {
    data::ReadOptions r;
    r.format = data::DatasetFormat::Gsm8k;
    r.limit = 5;
    for (const data::Example& shot : data::read_dataset(path, r).examples)
      shots_ += "Question: " + shot.question + "\nAnswer: " + shot.solution + "\n\n";
  }

 private:
  model::Generation generate(const std::string& text, int64_t max_new, int64_t min_new, bool add_special,
                             const std::vector<std::string>& stop_strings = {}) {
    std::vector<int32_t> ids = tokenizer_.encode(text, add_special);
    model::GenerationOptions g;
    g.max_new_tokens = max_new;
    g.min_new_tokens = min_new;
    g.stop_tokens = backbone_.config().eos_token_ids;
    if (!stop_strings.empty())
      g.stop_when = [&](const std::vector<int64_t>& generated) {
        std::string text = tokenizer_.decode(std::vector<int32_t>(generated.begin(), generated.end()), true);
        for (const std::string& s : stop_strings)
          if (text.find(s) != std::string::npos) return true;
        return false;
      };
    std::vector<int64_t> prompt(ids.begin(), ids.end());
    model::Generation out;
    if (routed_) {
      model::RoutedGeneration r = model::generate_routed(backbone_, *routers_, prompt, g, o_.routing);
      out = std::move(r.generation);
      used_plan_ = r.plan;
      router_seconds_ += r.router_seconds;
    } else {
      out = model::generate_greedy(backbone_, prompt, plan_, g);
    }
    generated_tokens_ += static_cast<int64_t>(out.tokens.size());
    forward_passes_ += static_cast<int64_t>(out.tokens.size());
    layer_visits_ += out.layer_visits;
    return out;
  }

  std::string decode(const model::Generation& g) {
    return tokenizer_.decode(std::vector<int32_t>(g.tokens.begin(), g.tokens.end()), /*skip_special=*/true);
  }

  // Dr.LLM's own rewards (SPEC-grading §1): greedy, at least 2 new tokens, decoded without specials, stripped.
  nlohmann::json drllm_task(const data::Example& ex) {
    search::SearchExample example =
        search::prepare_example(ex, *prompt_, chat_ ? &*chat_ : nullptr, tokenizer_, o_.task == "arc");
    search::PlanEvaluator::Outcome r =
        routed_ ? drllm_evaluator_->evaluate_routed(example, *routers_, o_.routing, used_plan_, router_seconds_)
                : drllm_evaluator_->evaluate(example, plan_);
    generated_tokens_ += r.new_tokens;
    forward_passes_ += r.new_tokens;
    layer_visits_ += r.layer_visits;
    return {{"id", ex.id}, {"response", r.response}, {"gold", ex.answer}, {"correct", r.reward > 0.5}};
  }

  nlohmann::json gsm8k(const data::Example& ex) {
    std::string text = shots_ + "Question: " + ex.question + "\nAnswer:";
    int64_t max_new = o_.max_new_tokens ? o_.max_new_tokens : 256;
    // The harness' stop strings end the generation and cut the text.
    const std::vector<std::string> stops = {"Question:", "</s>", "<|im_end|>"};
    std::string response = data::cut_at_stop_strings(decode(generate(text, max_new, 0, false, stops)), stops);
    bool strict = data::gsm8k_exact_match(data::gsm8k_strict_match(response), ex.solution);
    bool flexible = data::gsm8k_exact_match(data::gsm8k_flexible_extract(response), ex.solution);
    return {{"id", ex.id}, {"response", response}, {"gold", ex.answer}, {"correct", strict}, {"flexible", flexible}};
  }

  nlohmann::json multiple_choice(const data::Example& ex) {
    std::string task = o_.task == "arc-ll" ? "arc" : o_.task;
    std::string context = data::lm_eval_context(task, ex);
    std::vector<std::string> choices = data::lm_eval_choices(task, ex);
    std::vector<double> lls;
    const model::LayerPlan* plan = &plan_;
    if (routed_) {  // one plan per question, from a routing prefill of its context (scoring does not generate)
      data::LoglikelihoodRequest r = data::encode_pair(tokenizer_, context, " " + choices.front(), false);
      used_plan_ = model::route_prompt(backbone_, *routers_, std::vector<int64_t>(r.context.begin(), r.context.end()),
                                       o_.routing, model::RepeatKv::Shared, &router_seconds_);
      plan = &used_plan_;
    }
    for (const std::string& choice : choices) {
      data::LoglikelihoodRequest r = data::encode_pair(tokenizer_, context, " " + choice, false);
      ++forward_passes_;
      lls.push_back(model::score_continuation(backbone_, std::vector<int64_t>(r.context.begin(), r.context.end()),
                                              std::vector<int64_t>(r.continuation.begin(), r.continuation.end()), *plan)
                        .log_likelihood);
      layer_visits_ += plan->executed();
    }
    data::MultipleChoiceScore s = data::score_multiple_choice(lls, choices, ex.gold_index);
    return {{"id", ex.id}, {"log_likelihoods", lls}, {"gold", ex.gold_index}, {"correct", s.acc},
            {"acc_norm", s.acc_norm}};
  }

  const EvalOptions& o_;
  model::Backbone backbone_;
  data::Tokenizer tokenizer_;
  model::LayerPlan plan_;
  bool instruct_;
  std::optional<data::ChatTemplate> chat_;
  std::optional<data::PromptTemplate> prompt_;              // arc, math
  std::optional<search::PlanEvaluator> drllm_evaluator_;    // arc, math
  std::string shots_;
  int64_t generated_tokens_ = 0, layer_visits_ = 0, forward_passes_ = 0;
  double router_seconds_ = 0;
  bool routed_ = false;
  std::optional<model::RouterBank> routers_;
  model::LayerPlan used_plan_;  // routed: the plan the routers chose for the last example
};

void run_eval(const EvalOptions& o, const CommonOptions& common) {
  dist::Runtime runtime;
  int threads = configure_threads(common.threads);
  data::ReadOptions read;
  read.format = data::parse_dataset_format(o.format.empty() ? default_format(o.task) : o.format);
  read.limit = o.limit;
  read.skip_bad_rows = o.skip_bad_rows;
  if (!o.field_map.empty()) read.mapping = data::FieldMapping::parse(o.field_map);
  data::DatasetReadResult loaded = data::read_dataset(o.data, read);
  if (loaded.skipped) {
    std::cerr << "skipped " << loaded.skipped << " bad rows of " << o.data << ", first:\n";
    for (const std::string& why : loaded.skip_reasons) std::cerr << "  " << why << "\n";
  }
  std::vector<data::Example> examples = std::move(loaded.examples);
  DRLLM_CHECK(!examples.empty(), o.data, ": no examples");

  Evaluator evaluator(o);
  if (o.task == "gsm8k") {
    DRLLM_CHECK(!o.fewshot_data.empty(), "--task gsm8k needs --fewshot-data (the GSM8K train file)");
    evaluator.load_shots(o.fewshot_data);
  }
  if (!o.routers.empty()) evaluator.load_routers(o.routers);
  if (runtime.is_root()) {
    std::filesystem::create_directories(o.out);
    std::cerr << "eval " << o.task << " on " << examples.size() << " examples of " << o.data << " with " << o.model
              << (evaluator.instruct() ? " (instruct)" : " (base)") << ", " << threads << " threads"
              << (runtime.size() > 1 ? cat(" x ", runtime.size(), " ranks") : std::string())
              << (o.routers.empty() ? "" : ", unrouted then routed by " + o.routers) << "\n";
  }

  // One pass over the examples, unrouted or routed. Across ranks, rank r takes examples r, r + n, ... and rank 0
  // gathers the records (in example order) and the counts.
  const size_t n = examples.size(), rank = static_cast<size_t>(runtime.rank()), ranks = static_cast<size_t>(runtime.size());
  auto run_pass = [&](bool routed) {
    EvalPass pass;
    evaluator.reset_counts();
    auto t0 = Clock::now();
    size_t correct = 0, done = 0;
    std::string mine;
    for (size_t i = rank; i < n; i += ranks) {
      nlohmann::json record = evaluator.run(examples[i], routed);
      record["index"] = i;
      correct += record["correct"].get<bool>();
      ++done;
      mine += record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      double s = std::chrono::duration<double>(Clock::now() - t0).count();
      if (runtime.is_root() && (done % 10 == 0 || i + ranks >= n))
        std::cerr << "  " << (routed ? "routed   " : (o.routers.empty() ? "" : "unrouted ")) << std::min(n, done * ranks)
                  << "/" << n << "  accuracy " << double(correct) / done << "  " << s / (done * ranks)
                  << " s/example, ETA " << s / done * (static_cast<double>(n) / ranks - done) << " s\n";
    }
    const double seconds = runtime.max(std::chrono::duration<double>(Clock::now() - t0).count());
    const double visits = static_cast<double>(runtime.sum(evaluator.layer_visits()));
    const double passes = static_cast<double>(runtime.sum(evaluator.forward_passes()));
    const double tokens = static_cast<double>(runtime.sum(evaluator.generated_tokens()));
    const double routing = runtime.sum(evaluator.router_seconds());
    std::vector<std::string> parts = runtime.gather_to_root(mine);
    if (!runtime.is_root()) return pass;
    std::vector<nlohmann::json> records;
    for (const std::string& part : parts)
      for (const std::string& line : split_string(part, "\n"))
        if (!line.empty()) records.push_back(nlohmann::json::parse(line));
    std::sort(records.begin(), records.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
      return a["index"].get<size_t>() < b["index"].get<size_t>();
    });
    double right = 0, flexible = 0, acc_norm = 0;
    for (const nlohmann::json& r : records) {
      right += r["correct"].get<bool>();
      flexible += r.value("flexible", false);
      acc_norm += r.value("acc_norm", false);
      if (routed) pass.plans.push_back(model::LayerPlan::parse(r["plan"].get<std::string>()));
      pass.records += r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    const double count = static_cast<double>(n);
    pass.summary = {{"accuracy", right / count},
                    {"layers_per_example", visits / count},
                    {"layers_per_pass", passes > 0 ? visits / passes : 0.0},
                    {"seconds", seconds},
                    {"tokens_per_second", seconds > 0 ? tokens / seconds : 0.0}};
    if (o.task == "gsm8k") pass.summary["flexible_extract"] = flexible / count;
    if (o.task != "arc" && o.task != "math" && o.task != "gsm8k") pass.summary["acc_norm"] = acc_norm / count;
    if (routed) pass.summary["router_seconds"] = routing;  // the routers' own time
    return pass;
  };

  EvalPass unrouted = run_pass(false);
  EvalPass routed;
  if (!o.routers.empty()) routed = run_pass(true);
  if (!runtime.is_root()) return;
  nlohmann::json report = {{"task", o.task},
                           {"data", o.data},
                           {"model", o.model},
                           {"examples", examples.size()},
                           {"ranks", runtime.size()},
                           {"skipped_rows", loaded.skipped}};
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
    write_eval_reports(o.out, report, routed.plans);
  }
  write_file_atomically(o.out + "/report.json", [&](std::ostream& out) { out << report.dump(2) << "\n"; });
  std::cout << report.dump(2) << std::endl;
}

}  // namespace

void add_eval(CLI::App& app, const CommonOptions& common) {
  auto* cmd = app.add_subcommand("eval", "accuracy on a data file (arc, math, gsm8k, arc-ll, piqa, openbookqa, mmlu)");
  auto o = std::make_shared<EvalOptions>();
  cmd->add_option("--model", o->model, "Hugging Face model folder or .gguf file")->capture_default_str();
  cmd->add_option("--data", o->data, "JSONL data file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--task", o->task, "arc, math, gsm8k, arc-ll, piqa, openbookqa or mmlu")
      ->capture_default_str()->check(CLI::IsMember({"arc", "math", "gsm8k", "arc-ll", "piqa", "openbookqa", "mmlu"}));
  cmd->add_option("--format", o->format, "data format: arc, gsm8k, mmlu, piqa, openbookqa, dart, generic (default: the task's)");
  cmd->add_option("--fewshot-data", o->fewshot_data, "gsm8k: the train file whose first five rows are the shots");
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
