// Added tokens of tokenizer.json ("added_tokens"): matched in the text before the model sees it,
// leftmost-longest, as tokenizers' AddedVocabulary does. Tokens with normalized=false match the raw text;
// the others match after normalisation. lstrip/rstrip swallow the whitespace beside a match; single_word
// matches only between non-word characters.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace drllm::text {

struct AddedToken {
  int32_t id;
  std::string content;
  bool special = false;
  bool normalized = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

// A piece of text: either an added token (id >= 0) or plain text for the model (id == -1).
struct TextPiece {
  std::string_view text;
  int32_t id = -1;
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  static AddedVocabulary from_json(const nlohmann::json& list, const std::string& source);

  // Splits `text` on the added tokens whose `normalized` flag equals `normalized`.
  std::vector<TextPiece> split(std::string_view text, bool normalized) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  const AddedToken* find(int32_t id) const;
  bool has_normalized() const { return has_normalized_; }

 private:
  // Longest token of the given kind that starts at `pos`, or nullptr.
  const AddedToken* match_at(std::string_view text, size_t pos, bool normalized) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  std::vector<size_t> by_first_byte_[256];  // candidates per first byte, longest first
  bool has_normalized_ = false;
};

}  // namespace drllm::text
