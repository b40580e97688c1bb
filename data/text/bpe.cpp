#include "data/text/bpe.h"

#include <cstdio>
#include <queue>

#include "common/error.h"
#include "data/text/unicode.h"

namespace drllm::text {
namespace {

constexpr size_t kMaxCachedWordBytes = 256;  // long words (whole Llama-2 segments) are not worth caching
constexpr size_t kMaxCacheEntries = 1 << 18;

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

}  // namespace

BpeModel::BpeModel(TokenIds vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeOptions options, const std::string& source)
    : vocab_(std::move(vocab)), options_(options) {
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    auto l = vocab_.find(left), r = vocab_.find(right), m = vocab_.find(left + right);
    DRLLM_CHECK(l != vocab_.end() && r != vocab_.end(), source, ": merge ", rank, " ('", left, "' '", right,
                "') names a token that is not in the vocabulary");
    DRLLM_CHECK(m != vocab_.end(), source, ": merge ", rank, " makes '", left + right,
                "', which is not in the vocabulary");
    // The first (lowest-ranked) occurrence of a pair wins, as in tokenizers.
    merges_.emplace(pair_key(l->second, r->second), Merge{static_cast<int32_t>(rank), m->second});
  }
  byte_token_ids_.fill(-1);
  if (options_.byte_fallback) {
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      if (auto it = vocab_.find(std::string_view(name)); it != vocab_.end()) byte_token_ids_[b] = it->second;
    }
  }
}

std::optional<int32_t> BpeModel::id_of(std::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges)
    if (auto it = vocab_.find(word); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  const bool cacheable = word.size() <= kMaxCachedWordBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (auto it = cache_.find(word); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  merge_word(word, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_.emplace(std::string(word), std::move(ids));
  }
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out) const {
  // 1. Characters to symbols: the character's id, else its byte tokens, else unk (fused when asked).
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    bool alive;
  };
  std::vector<Symbol> symbols;
  bool last_was_unk = false;
  for (size_t pos = 0; pos < word.size();) {
    size_t len = std::min(utf8_char_length(static_cast<unsigned char>(word[pos])), word.size() - pos);
    std::string_view ch = word.substr(pos, len);
    pos += len;
    if (auto it = vocab_.find(ch); it != vocab_.end()) {
      symbols.push_back({it->second, 0, 0, true});
      last_was_unk = false;
      continue;
    }
    if (options_.byte_fallback) {
      bool all_bytes = true;
      for (char c : ch) all_bytes &= byte_token_ids_[static_cast<unsigned char>(c)] >= 0;
      if (all_bytes) {
        for (char c : ch) symbols.push_back({byte_token_ids_[static_cast<unsigned char>(c)], 0, 0, true});
        last_was_unk = false;
        continue;
      }
    }
    DRLLM_CHECK(options_.unk_id.has_value(), "tokenizer: character '", std::string(ch),
                "' is not in the vocabulary and the model has no unk token");
    if (!(options_.fuse_unk && last_was_unk)) symbols.push_back({*options_.unk_id, 0, 0, true});
    last_was_unk = true;
  }
  const int32_t n = static_cast<int32_t>(symbols.size());
  for (int32_t i = 0; i < n; ++i) {
    symbols[i].prev = i - 1;
    symbols[i].next = i + 1 < n ? i + 1 : -1;
  }

  // 2. Merges, lowest rank first, ties to the leftmost position; stale queue entries are skipped.
  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t new_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](int32_t pos) {
    if (pos < 0 || symbols[pos].next < 0) return;
    auto it = merges_.find(pair_key(symbols[pos].id, symbols[symbols[pos].next].id));
    if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.new_id});
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    auto it = merges_.find(pair_key(left.id, symbols[left.next].id));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;
    Symbol& right = symbols[left.next];
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    consider(left.prev);
    consider(top.pos);
  }
  for (int32_t i = 0; i >= 0 && i < n; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace drllm::text
