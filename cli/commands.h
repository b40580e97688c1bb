// The drllm subcommands: each file in cli/ registers one on the app and runs it as a short recipe of library
// calls. Logic lives in the libraries; these bind options and print.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/token_id.h"
#include "model/load_options.h"

namespace drllm::cli {

// Options every subcommand shares.
struct CommonOptions {
  int threads = 0;  // 0: cores on this node / ranks on this node
};

// Every subcommand, on `app`.
void add_commands(CLI::App& app, const CommonOptions& common);

void add_inspect(CLI::App& app);
void add_generate(CLI::App& app, const CommonOptions& common);
void add_tokenize(CLI::App& app);
void add_chat_template(CLI::App& app);
void add_convert(CLI::App& app);
void add_eval(CLI::App& app, const CommonOptions& common);
void add_search(CLI::App& app, const CommonOptions& common);
void add_labels(CLI::App& app);
void add_train(CLI::App& app, const CommonOptions& common);
void add_demo(CLI::App& app, const CommonOptions& common);
void add_models(CLI::App& app);

// The model a subcommand uses when --model is not given: $DRLLM_MODEL, else the embedded default of the model
// registry (model/registry.h: Qwen2.5-Coder-1.5B-Instruct), which scripts/setup fetches.
std::string default_model_dir();
// What every --model takes, for its help text.
inline constexpr const char* kModelHelp =
    "model: a registry name (drllm models), a Hugging Face folder or .gguf file, or ORG/NAME[@REVISION] in the local "
    "Hugging Face cache ($HF_HOME)";

// --device and --dtype, for every subcommand that runs the backbone.
void add_backbone_options(CLI::App* cmd, model::LoadOptions& options);
// --dtype alone (train, whose --device is the routers' and the backbone's both).
void add_dtype_option(CLI::App* cmd, std::string& dtype);

// --batch and --max-memory-gb, for every subcommand that runs sequences in batches (model/batch_generation.h).
struct BatchFlags {
  int64_t batch = 0;         // 0: the device's default
  double max_memory_gb = 0;  // 0: no bound
  // The batch for a device: --batch, else 8 on a CPU and 32 on a GPU (bench/search, bench/routed).
  int64_t batch_for(const std::string& device) const;
  size_t memory_bytes() const;
};
void add_batch_options(CLI::App* cmd, BatchFlags& flags, const std::string& what);

// Space-separated token ids ("12 7 9"); `where` names the input in the error for a bad item.
std::vector<TokenId> parse_token_ids(const std::string& text, const std::string& where);

// at::set_num_threads per docs/architecture.md; returns the count used.
int configure_threads(int requested);

}  // namespace drllm::cli
