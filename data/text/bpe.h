// BpeModel: the "BPE" model of a Hugging Face tokenizer.json. A pre-token ("word") becomes its characters'
// ids, then the lowest-ranked merge is applied repeatedly (ties: leftmost), as tokenizers' Word::merge_all.
// Covers ignore_merges (Llama-3: a word already in the vocabulary is one token), byte_fallback (Llama-2:
// an unknown character becomes its <0xXX> byte tokens) and unk with fuse_unk. Results are cached per word.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace drllm::text {

// unordered_map keyed by std::string that also finds std::string_view keys without a copy.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenIds = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct BpeOptions {
  bool ignore_merges = false;
  bool byte_fallback = false;
  bool fuse_unk = false;
  std::optional<int32_t> unk_id;
};

class BpeModel {
 public:
  BpeModel(TokenIds vocab, const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
           const std::string& source);

  // Appends the ids of one pre-token.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

  std::optional<int32_t> id_of(std::string_view token) const;
  const TokenIds& vocab() const { return vocab_; }

 private:
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;

  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  TokenIds vocab_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left id << 32 | right id) -> merge
  BpeOptions options_;
  std::array<int32_t, 256> byte_token_ids_{};   // <0xXX> ids when byte_fallback, else -1

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
};

}  // namespace drllm::text
