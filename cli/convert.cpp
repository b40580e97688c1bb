// drllm convert MODEL.gguf OUT_DIR: a Hugging Face folder that transformers loads: config.json,
// model.safetensors (dequantized), tokenizer.json and tokenizer_config.json (chat template, special tokens).
// Built in OUT_DIR.tmp and renamed, so OUT_DIR only ever holds a whole conversion.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/console.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/text/gguf_tokenizer.h"
#include "formats/gguf.h"
#include "model/gguf_convert.h"

namespace drllm::cli {
namespace {

struct ConvertOptions {
  std::string gguf_path, out_dir, dtype = "float32";
  bool force = false;
};

void write_tokenizer_files(const formats::GgufFile& gguf, const std::string& folder) {
  std::string tokenizer = text::tokenizer_json_from_gguf(gguf);
  write_file_atomically(folder + "/tokenizer.json", [&](std::ostream& out) { out << tokenizer; });
  const formats::GgufArray& tokens = gguf.get_array("tokenizer.ggml.tokens");
  auto token_text = [&](const char* key) -> nlohmann::json {
    auto id = gguf.find_uint(key);
    if (!id || *id >= tokens.size()) return nullptr;
    return std::get<std::string>(tokens[*id].value);
  };
  nlohmann::ordered_json config;
  config["tokenizer_class"] = "PreTrainedTokenizerFast";
  config["bos_token"] = token_text("tokenizer.ggml.bos_token_id");
  config["eos_token"] = token_text("tokenizer.ggml.eos_token_id");
  config["pad_token"] = token_text("tokenizer.ggml.padding_token_id");
  config["unk_token"] = token_text("tokenizer.ggml.unknown_token_id");
  config["add_bos_token"] = gguf.has("tokenizer.ggml.add_bos_token") && gguf.get_bool("tokenizer.ggml.add_bos_token");
  config["clean_up_tokenization_spaces"] = false;
  if (gguf.has("tokenizer.chat_template")) config["chat_template"] = gguf.get_string("tokenizer.chat_template");
  std::string text = config.dump(2);
  write_file_atomically(folder + "/tokenizer_config.json", [&](std::ostream& out) { out << text << "\n"; });
}

void run_convert(const ConvertOptions& o) {
  namespace fs = std::filesystem;
  DRLLM_CHECK(o.force || !fs::exists(o.out_dir), o.out_dir, ": already exists; pass --force to replace it");
  formats::GgufFile gguf(o.gguf_path);
  const std::string tmp = o.out_dir + ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  try {
    log_info() << "converting " << o.gguf_path << " (" << gguf.tensors().size() << " tensors) to " << o.out_dir
              << " in " << o.dtype << "\n";
    model::write_hf_checkpoint_from_gguf(gguf, tmp, o.dtype);
    write_tokenizer_files(gguf, tmp);
    fs::remove_all(o.out_dir);
    fs::rename(tmp, o.out_dir);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
  log_info() << "wrote " << o.out_dir << "\n";
}

}  // namespace

void add_convert(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert", "convert a GGUF file to a Hugging Face folder (config, safetensors, tokenizer)");
  auto o = std::make_shared<ConvertOptions>();
  cmd->add_option("gguf", o->gguf_path, "the .gguf file")->required()->check(CLI::ExistingFile);
  cmd->add_option("out_dir", o->out_dir, "the folder to create")->required();
  cmd->add_option("--dtype", o->dtype, "weight dtype of model.safetensors")
      ->capture_default_str()->check(CLI::IsMember({"float32", "bfloat16", "float16"}));
  cmd->add_flag("--force", o->force, "replace an existing OUT_DIR");
  cmd->callback([o] { run_convert(*o); });
}

}  // namespace drllm::cli
