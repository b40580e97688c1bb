// What a subcommand needs of a model path: the backbone, its tokenizer (tokenizer.json beside the weights, or
// the GGUF's own metadata, unless --tokenizer names one) and its chat template (tokenizer_config.json or the
// GGUF's tokenizer.chat_template, unless --chat-template names one).
#pragma once

#include <optional>
#include <string>

#include "data/text/chat_template.h"
#include "data/text/tokenizer.h"
#include "model/model_config.h"

namespace drllm::cli {

// The tokenizer file of a model: the explicit path, else MODEL/tokenizer.json, else the .gguf itself.
std::string tokenizer_path_for(const std::string& model_path, const std::string& explicit_path);

// A model's configuration without loading its weights (config.json, or the GGUF's metadata).
model::ModelConfig model_config_of(const std::string& model_path);

// The chat template of a model: by name when given, else recognised from tokenizer_config.json or the GGUF.
text::ChatTemplate chat_template_for(const std::string& model_path, const std::string& name);

}  // namespace drllm::cli
