// Decoders of tokenizer.json: token strings back to text. ByteLevel (printable code points back to bytes),
// and the Llama-2 chain Replace("▁" -> " "), ByteFallback (<0xXX> runs back to bytes), Fuse, Strip.
// Invalid UTF-8 becomes U+FFFD as in tokenizers (lossy for ByteLevel; one per byte for ByteFallback).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace drllm::text {

class TokenDecoder {
 public:
  TokenDecoder() = default;  // concatenation
  static TokenDecoder from_json(const nlohmann::json& j, const std::string& source);
  std::string decode(std::vector<std::string> tokens) const;

 private:
  struct Step {
    enum Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip } kind;
    std::string a, b;        // Replace a -> b; Strip: a = the character
    size_t start = 0, stop = 0;  // Strip
  };
  static void add(const nlohmann::json& j, const std::string& source, std::vector<Step>& steps);
  std::vector<Step> steps_;
};

}  // namespace drllm::text
