// ModelFiles: one model on disk, opened once: a Hugging Face folder (config.json, safetensors, tokenizer.json,
// tokenizer_config.json) or a .gguf file (mapped and parsed once). It owns what every command asks of a model: the
// config, the fingerprint that ties labels, checkpoints and routers to it, the weights' source, the tokenizer, the
// chat template and the BOS token. Open a model with it once per process and pass it along; opening the same path
// again reads the files again.
#pragma once

#include <memory>
#include <string>

#include "data/text/chat_template.h"
#include "data/text/tokenizer.h"
#include "model/fingerprint.h"
#include "model/model_config.h"

namespace drllm::formats {
class GgufFile;
class SafetensorsCheckpoint;
}

namespace drllm::model {

class ModelFiles {
 public:
  // Reads the config and the tensor index and computes the fingerprint; the weights stay mapped, unread. A
  // registry name (model/registry.h) opens its fetched file.
  static ModelFiles open(const std::string& name_or_path);
  ModelFiles(ModelFiles&&) noexcept;
  ModelFiles& operator=(ModelFiles&&) noexcept;
  ~ModelFiles();

  const std::string& path() const { return path_; }  // a registry name resolved to its file
  // The file or folder name (Dr.LLM's instruct test reads it).
  std::string name() const;
  bool is_gguf() const { return gguf_ != nullptr; }
  const ModelConfig& config() const { return config_; }
  const CheckpointSummary& summary() const { return summary_; }
  const std::string& fingerprint() const { return summary_.fingerprint; }
  // The weights' container: exactly one of the two exists (the other throws).
  const formats::GgufFile& gguf() const;
  const formats::SafetensorsCheckpoint& safetensors() const;

  // The model's tokenizer: tokenizer.json beside the weights, or the GGUF's metadata; `explicit_path` (a
  // tokenizer.json or a .gguf) replaces it.
  text::Tokenizer tokenizer(const std::string& explicit_path = "") const;
  // The chat template: by name when given, else recognised from tokenizer_config.json or the GGUF's
  // tokenizer.chat_template (an error names the file and says to pass --chat-template).
  text::ChatTemplate chat_template(const std::string& name = "") const;
  // Whether the model carries a chat template (the GGUF's tokenizer.chat_template, or a chat_template string in
  // tokenizer_config.json), recognised or not: `generate` wraps prompts in it by default when it does.
  bool has_chat_template() const;

 private:
  ModelFiles() = default;
  std::string path_;
  ModelConfig config_;
  CheckpointSummary summary_;
  std::unique_ptr<formats::GgufFile> gguf_;
  std::unique_ptr<formats::SafetensorsCheckpoint> safetensors_;
};

}  // namespace drllm::model
