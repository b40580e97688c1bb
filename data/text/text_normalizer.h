// Normalizers of tokenizer.json that the supported families use: NFC / NFKC / NFD (utf8proc), Prepend,
// Replace (literal pattern), Sequence. Anything else is an error that names it.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace drllm::text {

class TextNormalizer {
 public:
  TextNormalizer() = default;  // identity
  static TextNormalizer from_json(const nlohmann::json& j, const std::string& source);
  std::string apply(std::string_view text) const;
  bool empty() const { return steps_.empty(); }

 private:
  struct Step {
    enum Kind { Nfc, Nfkc, Nfd, Prepend, Replace } kind;
    std::string a, b;  // Prepend: a = prefix; Replace: a -> b
  };
  static void add(const nlohmann::json& j, const std::string& source, std::vector<Step>& steps);
  std::vector<Step> steps_;
};

}  // namespace drllm::text
