#include "cli/model_resources.h"

#include "cli/commands.h"

#include <cstdlib>
#include <filesystem>

#include "common/error.h"
#include "model/backbone.h"
#include "formats/gguf.h"
#include "model/gguf_model.h"

namespace drllm::cli {

std::string default_model_dir() {
  if (const char* env = std::getenv("DRLLM_MODEL")) return env;
  return std::string(DRLLM_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

std::string tokenizer_path_for(const std::string& model_path, const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  if (formats::is_gguf_path(model_path)) return model_path;
  std::string path = (std::filesystem::path(model_path) / "tokenizer.json").string();
  DRLLM_CHECK(std::filesystem::exists(path), model_path, ": has no tokenizer.json; pass one with --tokenizer");
  return path;
}

text::ChatTemplate chat_template_for(const std::string& model_path, const std::string& name) {
  if (!name.empty()) return text::ChatTemplate::by_name(name);
  if (formats::is_gguf_path(model_path)) {
    formats::GgufFile gguf(model_path);
    DRLLM_CHECK(gguf.has("tokenizer.chat_template"), model_path,
                ": has no tokenizer.chat_template; pass --chat-template NAME");
    std::string bos;
    if (auto id = gguf.find_uint("tokenizer.ggml.bos_token_id"))
      bos = std::get<std::string>(gguf.get_array("tokenizer.ggml.tokens").at(*id).value);
    return text::ChatTemplate::recognise(gguf.get_string("tokenizer.chat_template"), bos, model_path);
  }
  return text::ChatTemplate::from_tokenizer_config((std::filesystem::path(model_path) / "tokenizer_config.json").string());
}

model::ModelConfig model_config_of(const std::string& model_path) {
  return formats::is_gguf_path(model_path) ? model::config_from_gguf(formats::GgufFile(model_path))
                                         : model::ModelConfig::from_file(model_path + "/config.json");
}

}  // namespace drllm::cli
