// Pre-tokenizers of tokenizer.json: Split by a regex (PCRE2, Unicode properties; behaviour "Isolated": matches
// and the text between them are pieces of their own) and ByteLevel (optionally GPT-2's own split regex, an
// optional prefix space, then every byte as its printable code point). Sequence chains them.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace drllm::text {

class SplitRegex;  // PCRE2 code, compiled once (pre_tokenizer.cpp)

class PreTokenizer {
 public:
  PreTokenizer();
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;
  static PreTokenizer from_json(const nlohmann::json& j, const std::string& source);

  // Splits normalised text into the words BPE sees (already byte-mapped for byte-level models).
  void split(std::string_view text, std::vector<std::string>& words) const;
  bool byte_level() const;

 private:
  struct Step;
  static void add(const nlohmann::json& j, const std::string& source, std::vector<Step>& steps);
  std::vector<Step> steps_;
};

}  // namespace drllm::text
