#include "data/text/gguf_tokenizer.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "formats/gguf.h"

namespace drllm::text {
namespace {

using nlohmann::json;

// Split patterns of the Hugging Face tokenizers that llama.cpp's pre-tokenizer names stand for.
const char* kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

json split(const char* pattern) {
  return {{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}};
}
json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", use_regex}};
}

// pre-tokenizer, normalizer and ignore_merges for a tokenizer.ggml.pre value.
struct PreTokenizerChoice {
  json pre_tokenizer, normalizer;
  bool ignore_merges = false;
};

PreTokenizerChoice choose(const std::string& pre, const std::string& path) {
  if (pre == "llama-bpe" || pre == "llama3")
    return {{{"type", "Sequence"}, {"pretokenizers", {split(kLlama3Pattern), byte_level(false)}}}, nullptr, true};
  if (pre == "qwen2")
    return {{{"type", "Sequence"}, {"pretokenizers", {split(kQwen2Pattern), byte_level(false)}}},
            {{"type", "NFC"}}, false};
  if (pre == "smollm" || pre == "starcoder" || pre == "refact" || pre == "codeshell")
    return {{{"type", "Sequence"},
             {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level(true)}}},
            nullptr, false};
  if (pre == "gpt-2" || pre == "gpt2" || pre == "default" || pre == "olmo")
    return {byte_level(true), nullptr, false};
  throw Error(cat(path, ": tokenizer.ggml.pre '", pre,
                  "' is not a pre-tokenizer drllm knows; known: llama-bpe, qwen2, smollm, starcoder, gpt-2, default"));
}

const std::string& as_string(const formats::GgufValue& v, const std::string& path, const char* key) {
  const auto* s = std::get_if<std::string>(&v.value);
  DRLLM_CHECK(s, path, ": ", key, " holds a non-string");
  return *s;
}

int64_t as_int(const formats::GgufValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v.value)) return *i;
  if (const auto* u = std::get_if<uint64_t>(&v.value)) return static_cast<int64_t>(*u);
  return 0;
}

}  // namespace

std::string tokenizer_json_from_gguf(const formats::GgufFile& g) {
  const std::string& path = g.path();
  std::string kind = g.get_string("tokenizer.ggml.model");
  DRLLM_CHECK(kind == "gpt2", path, ": GGUF tokenizer model '", kind,
              "' is not supported (only byte-level BPE, 'gpt2'); use the model's tokenizer.json with --tokenizer");
  std::string pre = g.has("tokenizer.ggml.pre") ? g.get_string("tokenizer.ggml.pre") : "default";
  PreTokenizerChoice choice = choose(pre, path);

  const formats::GgufArray& tokens = g.get_array("tokenizer.ggml.tokens");
  const formats::GgufArray* types = g.has("tokenizer.ggml.token_type") ? &g.get_array("tokenizer.ggml.token_type") : nullptr;
  DRLLM_CHECK(!types || types->size() == tokens.size(), path, ": tokenizer.ggml.token_type has ", types->size(),
              " entries for ", tokens.size(), " tokens");
  json vocab = json::object(), added = json::array();
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string& text = as_string(tokens[id], path, "tokenizer.ggml.tokens");
    vocab[text] = id;
    int64_t type = types ? as_int((*types)[id]) : 1;
    if (type == 3 || type == 4)  // CONTROL, USER_DEFINED: matched whole before BPE, like HF added tokens
      added.push_back({{"id", id}, {"content", text}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", false}, {"special", type == 3}});
  }
  json merges = json::array();
  for (const formats::GgufValue& m : g.get_array("tokenizer.ggml.merges"))
    merges.push_back(as_string(m, path, "tokenizer.ggml.merges"));

  json post = nullptr;
  bool add_bos = g.has("tokenizer.ggml.add_bos_token") && g.get_bool("tokenizer.ggml.add_bos_token");
  if (add_bos) {
    uint64_t bos = g.get_uint("tokenizer.ggml.bos_token_id");
    DRLLM_CHECK(bos < tokens.size(), path, ": tokenizer.ggml.bos_token_id ", bos, " is outside the vocabulary");
    const std::string& bos_text = as_string(tokens[bos], path, "tokenizer.ggml.tokens");
    post = {{"type", "TemplateProcessing"},
            {"single", {{{"SpecialToken", {{"id", bos_text}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
            {"pair", json::array()},
            {"special_tokens", {{bos_text, {{"id", bos_text}, {"ids", {bos}}, {"tokens", {bos_text}}}}}}};
  }
  json out = {{"version", "1.0"},
              {"added_tokens", added},
              {"normalizer", choice.normalizer},
              {"pre_tokenizer", choice.pre_tokenizer},
              {"post_processor", post},
              {"decoder", byte_level(true)},
              {"model",
               {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", ""},
                {"end_of_word_suffix", ""}, {"fuse_unk", false}, {"byte_fallback", false},
                {"ignore_merges", choice.ignore_merges}, {"vocab", vocab}, {"merges", merges}}}};
  return out.dump();
}

}  // namespace drllm::text
