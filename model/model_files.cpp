#include "model/model_files.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "data/text/gguf_tokenizer.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model/gguf_model.h"
#include "model/registry.h"

namespace drllm::model {

namespace fs = std::filesystem;

ModelFiles ModelFiles::open(const std::string& name_or_path) {
  ModelFiles m;
  const std::string path = resolve_model_path(name_or_path);
  m.path_ = path;
  if (formats::is_gguf_path(path)) {
    m.gguf_ = std::make_unique<formats::GgufFile>(path);
    m.config_ = config_from_gguf(*m.gguf_);
    m.summary_ = summarize_gguf(*m.gguf_);
  } else {
    const std::string config_path = (fs::path(path) / "config.json").string();
    m.config_ = ModelConfig::from_file(config_path);
    m.safetensors_ = std::make_unique<formats::SafetensorsCheckpoint>(path);
    std::vector<std::string> names;
    for (const auto& [name, entry] : m.safetensors_->entries()) names.push_back(name);
    m.config_.check_layer_tensors(names, path);
    m.summary_ = summarize_safetensors(config_path, *m.safetensors_);
  }
  return m;
}

ModelFiles::ModelFiles(ModelFiles&&) noexcept = default;
ModelFiles& ModelFiles::operator=(ModelFiles&&) noexcept = default;
ModelFiles::~ModelFiles() = default;

std::string ModelFiles::name() const { return fs::path(path_).filename().string(); }

const formats::GgufFile& ModelFiles::gguf() const {
  DRLLM_CHECK(gguf_, path_, " is a Hugging Face folder, not a GGUF file");
  return *gguf_;
}

const formats::SafetensorsCheckpoint& ModelFiles::safetensors() const {
  DRLLM_CHECK(safetensors_, path_, " is a GGUF file, not a Hugging Face folder");
  return *safetensors_;
}

text::Tokenizer ModelFiles::tokenizer(const std::string& explicit_path) const {
  if (!explicit_path.empty()) return text::Tokenizer::from_file(explicit_path);
  if (gguf_) return text::Tokenizer::from_json_text(text::tokenizer_json_from_gguf(*gguf_), path_);
  const std::string path = (fs::path(path_) / "tokenizer.json").string();
  DRLLM_CHECK(fs::exists(path), path_, ": has no tokenizer.json; pass one with --tokenizer");
  return text::Tokenizer::from_file(path);
}

bool ModelFiles::has_chat_template() const {
  if (gguf_) return gguf_->has("tokenizer.chat_template");
  std::ifstream in(fs::path(path_) / "tokenizer_config.json");
  if (!in) return false;
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("chat_template") && j["chat_template"].is_string();
}

text::ChatTemplate ModelFiles::chat_template(const std::string& name) const {
  if (!name.empty()) return text::ChatTemplate::by_name(name);
  if (gguf_) {
    DRLLM_CHECK(gguf_->has("tokenizer.chat_template"), path_,
                ": has no tokenizer.chat_template; pass --chat-template NAME");
    std::string bos;
    if (auto id = gguf_->find_uint("tokenizer.ggml.bos_token_id"))
      bos = std::get<std::string>(gguf_->get_array("tokenizer.ggml.tokens").at(*id).value);
    return text::ChatTemplate::recognise(gguf_->get_string("tokenizer.chat_template"), bos, path_);
  }
  return text::ChatTemplate::from_tokenizer_config((fs::path(path_) / "tokenizer_config.json").string());
}

}  // namespace drllm::model
