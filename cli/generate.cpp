// drllm generate: greedy generation along a layer plan (all layers executed by default) from prompt token
// ids. Text prompts arrive with the tokenizer (data/); until then ids in, ids out.
#include <ATen/ATen.h>

#include <chrono>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "common/error.h"
#include "model/backbone.h"
#include "model/generate.h"

namespace drllm::cli {
namespace {

struct GenerateOptions {
  std::string model_dir = default_model_dir();
  std::string prompt_ids = "1 2 3 4 5 6 7 8";
  std::string plan;  // empty: execute every layer
  int64_t max_new_tokens = 20;
  std::vector<int64_t> stop_ids;
  bool no_eos_stop = false;
  std::string repeat_kv = "shared";
  std::string device = "cpu";
  std::string dtype = "auto";
};

std::vector<int64_t> parse_ids(const std::string& text) {
  std::vector<int64_t> ids;
  std::istringstream in(text);
  std::string item;
  while (in >> item) {
    try {
      size_t used = 0;
      ids.push_back(std::stoll(item, &used));
      DRLLM_CHECK(used == item.size(), "");
    } catch (const std::exception&) {
      throw Error(cat("--prompt-ids: '", item, "' is not a token id"));
    }
  }
  return ids;
}

void run_generate(const GenerateOptions& o, const CommonOptions& common) {
  int threads = configure_threads(common.threads);
  auto t0 = std::chrono::steady_clock::now();
  model::Backbone backbone = model::Backbone::load(o.model_dir, {o.device, o.dtype});
  auto t1 = std::chrono::steady_clock::now();
  const model::ModelConfig& config = backbone.config();
  model::LayerPlan plan = o.plan.empty() ? model::LayerPlan::all_execute(config.num_layers)
                                         : model::LayerPlan::parse(o.plan);
  plan.check_length(config.num_layers);

  model::GenerationOptions gen;
  gen.max_new_tokens = o.max_new_tokens;
  gen.stop_tokens = o.stop_ids;
  if (!o.no_eos_stop)
    gen.stop_tokens.insert(gen.stop_tokens.end(), config.eos_token_ids.begin(), config.eos_token_ids.end());
  gen.repeat_kv = model::parse_repeat_kv(o.repeat_kv);

  std::vector<int64_t> prompt = parse_ids(o.prompt_ids);
  model::Generation result = model::generate_greedy(backbone, prompt, plan, gen);
  auto t2 = std::chrono::steady_clock::now();

  double load_s = std::chrono::duration<double>(t1 - t0).count();
  double gen_s = std::chrono::duration<double>(t2 - t1).count();
  std::cerr << "model " << o.model_dir << " (" << model::to_string(config.architecture) << ", " << config.num_layers
            << " layers) loaded in " << load_s << " s on " << o.device << ", " << threads << " threads\n"
            << "plan " << plan.to_string() << " (" << plan.executed() << " layer visits per pass, repeat KV "
            << o.repeat_kv << ")\n";
  for (size_t i = 0; i < result.tokens.size(); ++i) std::cout << (i ? " " : "") << result.tokens[i];
  std::cout << "\n";
  std::cerr << result.tokens.size() << " tokens in " << gen_s << " s ("
            << (gen_s > 0 ? result.tokens.size() / gen_s : 0.0) << " tokens/s), " << result.layer_visits
            << " layer visits" << (result.stopped ? ", stopped on a stop token" : "") << "\n";
}

}  // namespace

void add_generate(CLI::App& app, const CommonOptions& common) {
  auto* cmd = app.add_subcommand("generate", "greedy generation from prompt token ids along a layer plan");
  auto o = std::make_shared<GenerateOptions>();
  cmd->add_option("--model", o->model_dir, "Hugging Face model folder")->capture_default_str();
  cmd->add_option("--prompt-ids", o->prompt_ids, "prompt token ids, space-separated")->capture_default_str();
  cmd->add_option("--plan", o->plan, "layer plan: one of 0 (skip), 1 (execute), 2 (repeat) per layer, "
                                     "comma-separated (default: execute all)");
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "tokens to generate at most")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--stop-ids", o->stop_ids, "extra stop token ids (the config's eos ids always stop)");
  cmd->add_flag("--no-eos-stop", o->no_eos_stop, "do not stop on the config's eos ids");
  cmd->add_option("--repeat-kv", o->repeat_kv, "KV cache of a repeated layer: shared (as transformers) or separate")
      ->capture_default_str()->check(CLI::IsMember({"shared", "separate"}));
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "auto (fp32 on CPU, checkpoint dtype on CUDA), float32, bfloat16, float16")
      ->capture_default_str()->check(CLI::IsMember({"auto", "float32", "bfloat16", "float16"}));
  cmd->callback([o, &common] { run_generate(*o, common); });
}

}  // namespace drllm::cli
