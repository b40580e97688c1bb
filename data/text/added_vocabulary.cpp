#include "data/text/added_vocabulary.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "data/text/token_id_json.h"
#include "data/text/unicode.h"

namespace drllm::text {
namespace {

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// ASCII word characters; a non-ASCII neighbour counts as a word character (letters in most scripts).
bool is_word_byte(unsigned char c) { return c >= 0x80 || std::isalnum(c) || c == '_'; }

}  // namespace

AddedVocabulary AddedVocabulary::from_json(const nlohmann::json& list, const std::string& source) {
  AddedVocabulary v;
  if (list.is_null()) return v;
  DRLLM_CHECK(list.is_array(), source, ": added_tokens must be a list");
  for (const auto& t : list) {
    AddedToken token;
    token.id = token_id_from_json(t.at("id"), "added token " + t.value("content", std::string("?")), source);
    DRLLM_CHECK(!v.by_id_.count(token.id), source, ": two added tokens have id ", token.id);
    token.content = t.at("content").get<std::string>();
    token.special = t.value("special", false);
    token.normalized = t.value("normalized", !token.special);
    token.lstrip = t.value("lstrip", false);
    token.rstrip = t.value("rstrip", false);
    token.single_word = t.value("single_word", false);
    DRLLM_CHECK(!token.content.empty(), source, ": added token ", token.id, " is empty");
    v.has_normalized_ |= token.normalized;
    v.by_id_[token.id] = v.tokens_.size();
    v.tokens_.push_back(std::move(token));
  }
  for (size_t i = 0; i < v.tokens_.size(); ++i)
    v.by_first_byte_[static_cast<unsigned char>(v.tokens_[i].content[0])].push_back(i);
  for (auto& candidates : v.by_first_byte_)
    std::stable_sort(candidates.begin(), candidates.end(), [&](size_t a, size_t b) {
      return v.tokens_[a].content.size() > v.tokens_[b].content.size();
    });
  return v;
}

const AddedToken* AddedVocabulary::find(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocabulary::match_at(std::string_view text, size_t pos, bool normalized) const {
  for (size_t i : by_first_byte_[static_cast<unsigned char>(text[pos])]) {
    const AddedToken& t = tokens_[i];
    if (t.normalized != normalized || text.compare(pos, t.content.size(), t.content) != 0) continue;
    if (t.single_word) {
      size_t end = pos + t.content.size();
      bool before_ok = pos == 0 || !is_word_byte(static_cast<unsigned char>(text[pos - 1]));
      bool after_ok = end >= text.size() || !is_word_byte(static_cast<unsigned char>(text[end]));
      if (!before_ok || !after_ok) continue;
    }
    return &t;
  }
  return nullptr;
}

std::vector<TextPiece> AddedVocabulary::split(std::string_view text, bool normalized) const {
  std::vector<TextPiece> pieces;
  size_t plain_start = 0;
  for (size_t pos = 0; pos < text.size();) {
    const AddedToken* t = match_at(text, pos, normalized);
    if (!t) {
      pos += utf8_char_length(static_cast<unsigned char>(text[pos]));
      continue;
    }
    size_t plain_end = pos, next = pos + t->content.size();
    if (t->lstrip)
      while (plain_end > plain_start && is_space(static_cast<unsigned char>(text[plain_end - 1]))) --plain_end;
    if (t->rstrip)
      while (next < text.size() && is_space(static_cast<unsigned char>(text[next]))) ++next;
    if (plain_end > plain_start) pieces.push_back({text.substr(plain_start, plain_end - plain_start), -1});
    pieces.push_back({text.substr(pos, t->content.size()), t->id});
    pos = plain_start = next;
  }
  if (plain_start < text.size()) pieces.push_back({text.substr(plain_start), -1});
  return pieces;
}

}  // namespace drllm::text
