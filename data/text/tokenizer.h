// Tokenizer: a Hugging Face tokenizer.json, run as the Rust `tokenizers` library runs it:
//   added tokens split off -> normalizer -> pre-tokenizer -> BPE -> post-processor (BOS when asked)
// and back: ids -> token strings -> decoder. Byte-level BPE (Llama-3, Qwen2.5/3, GPT-2 style) and
// sentencepiece-style BPE with byte fallback (Llama-2). Not thread-safe: one Tokenizer per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/token_id.h"

namespace drllm::text {

class Tokenizer {
 public:
  static Tokenizer from_file(const std::string& path);  // tokenizer.json, or a .gguf file's metadata
  static Tokenizer from_json_text(const std::string& text, const std::string& source);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Text (UTF-8; ill-formed bytes become U+FFFD first) to ids; add_special_tokens applies the
  // post-processor's template (Llama's BOS).
  std::vector<TokenId> encode(std::string_view text, bool add_special_tokens = false) const;
  std::string decode(const std::vector<TokenId>& ids, bool skip_special_tokens = false) const;

  std::optional<TokenId> token_to_id(std::string_view token) const;
  std::string id_to_token(TokenId id) const;  // throws for an id outside the vocabulary
  bool is_special(TokenId id) const;
  int32_t vocab_size() const;  // highest id + 1, added tokens included

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The part of text decoded from generated ids that later ids cannot change: trailing U+FFFDs may be a
// character whose remaining bytes are still to come (byte fallback writes one per byte), so they are left out.
size_t complete_text_length(std::string_view decoded);

// Turns generated ids into text as they arrive: each push returns only the newly completed text, holding
// back a trailing partial UTF-8 character until the ids that finish it come.
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = true)
      : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}
  std::string push(TokenId id);
  std::string finish();  // whatever is left, U+FFFD included

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::vector<TokenId> ids_;
  size_t emitted_ = 0;  // bytes of the decoded text already returned
};

}  // namespace drllm::text
