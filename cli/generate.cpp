// drllm generate: greedy generation along a layer plan (all layers by default), from text prompts (through the
// model's tokenizer, wrapped in the model's chat template when it has one, as llama-cli and ollama do; --raw
// sends the text as it is) or from token ids. Prints one answer per prompt; with
// --jsonl one JSON object per prompt (prompt, answer, ids, plan, layer_visits).
#include <ATen/ATen.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/model_files.h"
#include "common/console.h"
#include "cli/commands.h"
#include "model/fingerprint.h"
#include "routing/routed_generation.h"
#include "common/error.h"
#include "common/input_file.h"
#include "model/backbone.h"
#include "model/compute_dtype.h"
#include "model/batch_generation.h"
#include "model/generate.h"
#include "dist/pipeline.h"
#include "dist/runtime.h"

namespace drllm::cli {
namespace {

struct GenerateOptions {
  std::string model_dir = default_model_dir();
  std::vector<std::string> prompts;
  std::string prompts_file;  // one JSON string (or JSON object with "prompt") per line
  std::vector<std::string> prompt_ids;
  std::string tokenizer;
  bool chat = false;  // --chat: the chat template, or an error when the model has none
  bool raw = false;   // --raw: the text as it is, never the chat template
  std::string chat_template;
  std::string system;
  std::string plan;  // empty: execute every layer
  int64_t max_new_tokens = 20;
  int64_t min_new_tokens = 0;
  std::vector<TokenId> stop_ids;
  bool no_eos_stop = false;
  bool jsonl = false;
  std::string repeat_kv = "shared";
  model::LoadOptions backbone;  // --device, --dtype
  std::string routers;  // exported routers: each prompt's plan decided by them
  routing::RoutingOptions routing;
  BatchFlags batch;
  int pipeline_stages = 1;
};

std::vector<std::string> read_prompts_file(const std::string& path) {
  check_input_file(path, "prompts file", 4 * kGiB);
  std::ifstream in(path);
  DRLLM_CHECK(in, path, ": cannot open prompts file");
  std::vector<std::string> prompts;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    try {
      auto j = nlohmann::json::parse(line);
      prompts.push_back(j.is_string() ? j.get<std::string>() : j.at("prompt").get<std::string>());
    } catch (const nlohmann::json::exception& e) {
      throw Error(cat(path, ":", n, ": expected a JSON string or an object with \"prompt\": ", e.what()));
    }
  }
  return prompts;
}

void run_generate(const GenerateOptions& o, const CommonOptions& common) {
  int threads = configure_threads(common.threads);
  auto t0 = std::chrono::steady_clock::now();
  const model::ModelFiles files = model::ModelFiles::open(o.model_dir);
  // With pipeline stages (mpirun -np S): rank 0 generates, the others serve their layers until it is done.
  dist::Runtime runtime;
  dist::Pipeline pipeline(runtime, o.pipeline_stages);
  DRLLM_CHECK(o.pipeline_stages == 1 || runtime.world_size() == o.pipeline_stages, "generate --pipeline-stages ",
              o.pipeline_stages, " runs one pipeline: start it with mpirun -np ", o.pipeline_stages);
  model::Backbone backbone = model::Backbone::load(files, pipeline.stage_options(o.backbone));
  if (!pipeline.drives()) {
    if (!o.routers.empty())  // this stage's routers decide its layers
      routing::route_on_stage(backbone, routing::load_routers_for(o.routers, backbone, files.fingerprint()));
    pipeline.serve(backbone);
    return;
  }
  pipeline.drive(backbone);
  const model::ModelConfig& config = backbone.config();
  model::LayerPlan plan = o.plan.empty() ? model::LayerPlan::all_execute(config.num_layers)
                                         : model::LayerPlan::parse(o.plan);
  plan.check_length(config.num_layers);

  model::GenerationOptions gen;
  gen.max_new_tokens = o.max_new_tokens;
  gen.min_new_tokens = o.min_new_tokens;
  gen.stop_tokens = o.stop_ids;
  if (!o.no_eos_stop)
    gen.stop_tokens.insert(gen.stop_tokens.end(), config.eos_token_ids.begin(), config.eos_token_ids.end());
  gen.repeat_kv = model::parse_repeat_kv(o.repeat_kv);
  std::optional<routing::RouterBank> routers;
  if (!o.routers.empty()) {
    DRLLM_CHECK(o.plan.empty(), "--plan and --routers exclude each other (the routers choose the plan)");
    routers = routing::load_routers_for(o.routers, backbone, files.fingerprint());
  }

  // The prompts as token ids (with their text when there is one).
  std::vector<std::string> texts = o.prompts;
  if (!o.prompts_file.empty()) {
    std::vector<std::string> more = read_prompts_file(o.prompts_file);
    texts.insert(texts.end(), more.begin(), more.end());
  }
  std::optional<text::Tokenizer> tokenizer;
  if (!texts.empty() || o.prompt_ids.empty() || o.jsonl)
    tokenizer = files.tokenizer(o.tokenizer);
  std::vector<std::vector<TokenId>> prompts;
  std::vector<std::string> prompt_texts;  // aligned with prompts; "" for --prompt-ids
  for (const std::string& ids : o.prompt_ids) {
    prompts.push_back(parse_token_ids(ids, "--prompt-ids"));
    prompt_texts.emplace_back();
  }
  std::optional<text::ChatTemplate> chat;
  DRLLM_CHECK(!(o.chat && o.raw), "generate: --chat and --raw contradict each other; give one");
  DRLLM_CHECK(!(o.raw && !o.chat_template.empty()), "generate: --chat-template has no effect with --raw");
  DRLLM_CHECK(!(o.raw && !o.system.empty()), "generate: --system needs the chat template; drop --raw");
  if (!texts.empty() && !o.raw && (o.chat || !o.chat_template.empty() || files.has_chat_template()))
    chat = files.chat_template(o.chat_template);
  for (const std::string& text : texts) {
    std::string rendered = text;
    if (chat) {
      std::vector<text::ChatMessage> messages;
      if (!o.system.empty()) messages.push_back({"system", o.system});
      messages.push_back({"user", text});
      rendered = chat->render(messages, /*add_generation_prompt=*/true);
    }
    prompts.push_back(tokenizer->encode(rendered, /*add_special_tokens=*/!chat));
    prompt_texts.push_back(text);
  }
  DRLLM_CHECK(!prompts.empty(), "generate: no prompt; give --prompt, --prompts-file or --prompt-ids");
  auto t1 = std::chrono::steady_clock::now();

  // Every prompt at once, --batch of them in flight (model/batch_generation.h).
  model::BatchOptions batch;
  batch.max_batch = o.batch.batch_for(o.backbone.device);
  batch.max_memory_bytes = o.batch.memory_bytes();
  std::vector<model::Generation> results;
  std::vector<model::LayerPlan> plans(prompts.size(), plan);
  if (routers) {
    std::vector<routing::RoutedGeneration> routed =
        routing::generate_routed_batched(backbone, *routers, prompts, gen, o.routing, batch);
    for (size_t i = 0; i < routed.size(); ++i) {
      results.push_back(std::move(routed[i].generation));
      plans[i] = routed[i].plan;
    }
  } else {
    model::FixedPlan source(plan);
    std::vector<model::GenerationRequest> requests;
    for (const auto& prompt : prompts) requests.push_back({prompt, &source, gen, 0});
    results = model::generate_batched(backbone, std::move(requests), batch);
  }

  int64_t tokens = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const model::LayerPlan& used = plans[i];
    const model::Generation& result = results[i];
    tokens += static_cast<int64_t>(result.tokens.size());
    std::string answer;
    if (tokenizer) answer = tokenizer->decode(result.tokens, true);
    if (o.jsonl) {
      nlohmann::json j = {{"answer", answer}, {"ids", result.tokens}, {"plan", used.to_string()},
                          {"layer_visits", result.layer_visits}, {"stopped", result.stopped}};
      if (!prompt_texts[i].empty()) j["prompt"] = prompt_texts[i];
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else if (!prompt_texts[i].empty()) {
      std::cout << answer << "\n";
      if (routers) std::cout << "  [plan " << used.to_string() << ": " << used.executed() << " layer visits per pass]\n";
    } else {
      for (size_t k = 0; k < result.tokens.size(); ++k) std::cout << (k ? " " : "") << result.tokens[k];
      std::cout << "\n";
    }
  }
  auto t2 = std::chrono::steady_clock::now();
  double load_s = std::chrono::duration<double>(t1 - t0).count(), gen_s = std::chrono::duration<double>(t2 - t1).count();
  log_info() << "model " << o.model_dir << " (" << model::to_string(config.architecture) << ", " << config.num_layers
            << " layers) loaded in " << load_s << " s on " << o.backbone.device << " in "
            << model::dtype_name(backbone.dtype()) << ", " << threads << " threads; plan "
            << plan.to_string() << " (" << plan.executed() << " layer visits per pass, repeat KV " << o.repeat_kv
            << ")\n"
            << prompts.size() << " prompts (" << batch.max_batch << " at once), " << tokens << " tokens in " << gen_s << " s ("
            << (gen_s > 0 ? tokens / gen_s : 0.0) << " tokens/s)\n";
}

}  // namespace

void add_generate(CLI::App& app, const CommonOptions& common) {
  auto* cmd = app.add_subcommand("generate", "greedy generation along a layer plan, from text or token ids");
  auto o = std::make_shared<GenerateOptions>();
  cmd->add_option("--model", o->model_dir, kModelHelp)->capture_default_str();
  cmd->add_option("--prompt", o->prompts, "a prompt (repeatable)");
  cmd->add_option("--prompts-file", o->prompts_file, "prompts, one JSON string (or {\"prompt\": ...}) per line");
  cmd->add_option("--prompt-ids", o->prompt_ids, "a prompt as space-separated token ids (repeatable)");
  cmd->add_option("--tokenizer", o->tokenizer, "tokenizer.json or .gguf (default: the model's)");
  cmd->add_flag("--chat", o->chat, "wrap each prompt as a user message in the model's chat template (the default "
                                   "when the model has one; with --chat a model without one is an error)");
  cmd->add_flag("--raw", o->raw, "send each prompt's text as it is, without the chat template");
  cmd->add_option("--chat-template", o->chat_template, "template by name: llama3, qwen2.5, qwen3, smollm2, chatml "
                                                       "(default: the model's own)");
  cmd->add_option("--system", o->system, "system message (in the chat template)");
  cmd->add_option("--plan", o->plan, "layer plan: one of 0 (skip), 1 (execute), 2 (repeat) per layer, "
                                     "comma-separated (default: execute all)");
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "tokens to generate at most")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--min-new-tokens", o->min_new_tokens, "stop tokens are ignored before this many tokens")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--stop-ids", o->stop_ids, "extra stop token ids (the config's eos ids always stop)");
  cmd->add_flag("--no-eos-stop", o->no_eos_stop, "do not stop on the config's eos ids");
  cmd->add_flag("--jsonl", o->jsonl, "one JSON object per prompt");
  cmd->add_option("--repeat-kv", o->repeat_kv, "KV cache of a repeated layer: shared (as transformers) or separate")
      ->capture_default_str()->check(CLI::IsMember({"shared", "separate"}));
  add_backbone_options(cmd, o->backbone);
  cmd->add_option("--pipeline-stages", o->pipeline_stages,
                  "split the backbone into S stages of consecutive layers, one per rank, under mpirun -np S "
                  "(docs/pipeline-stages.md); with --routers each stage's routers decide its layers")
      ->capture_default_str()->check(CLI::PositiveNumber);
  add_batch_options(cmd, o->batch, "prompts generated");
  cmd->add_option("--routers", o->routers, "routers (drllm export-routers): each prompt's plan is theirs");
  cmd->add_option("--router-p", o->routing.p, "control knob p in [-1, 1]: -0.5 the pure router, 0.5 always "
                                                "execute, below -0.5 towards skipping, above 0.5 towards repeating")
      ->capture_default_str()->check(CLI::Range(-1.0, 1.0));
  cmd->add_flag("--reroute-each-step", o->routing.reroute_each_step,
                "route again at every decode step from the new token (the released code); default: decide at "
                "prefill and keep the plan");
  cmd->callback([o, &common] { run_generate(*o, common); });
}

}  // namespace drllm::cli
