#include "data/text/tokenizer.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "common/error.h"
#include "common/input_file.h"
#include "data/text/token_id_json.h"
#include "data/text/added_vocabulary.h"
#include "data/text/bpe.h"
#include "data/text/gguf_tokenizer.h"
#include "data/text/pre_tokenizer.h"
#include "data/text/text_normalizer.h"
#include "data/text/token_decoder.h"
#include "data/text/unicode.h"
#include "formats/gguf.h"

namespace drllm::text {

using nlohmann::json;

struct Tokenizer::Impl {
  std::string source;
  TextNormalizer normalizer;
  PreTokenizer pre_tokenizer;
  std::unique_ptr<BpeModel> model;
  AddedVocabulary added;
  TokenDecoder decoder;
  std::vector<int32_t> prefix_ids, suffix_ids;  // the post-processor's template around the sequence
  std::vector<std::string> id_to_token;         // "" where no token has that id

  void encode_plain(std::string_view text, std::vector<int32_t>& out) const {
    std::string normalized = normalizer.apply(text);
    std::vector<TextPiece> pieces = added.has_normalized() ? added.split(normalized, true)
                                                           : std::vector<TextPiece>{{normalized, -1}};
    std::vector<std::string> words;
    for (const TextPiece& piece : pieces) {
      if (piece.id >= 0) {
        out.push_back(piece.id);
        continue;
      }
      words.clear();
      pre_tokenizer.split(piece.text, words);
      for (const std::string& w : words) model->encode_word(w, out);
    }
  }
};

namespace {

std::unique_ptr<BpeModel> parse_model(const json& m, const std::string& source) {
  std::string type = m.value("type", "");
  DRLLM_CHECK(type == "BPE", source, ": tokenizer model type '", type,
              "' is not supported; supported: BPE (byte-level, or sentencepiece-style with byte fallback)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    DRLLM_CHECK(!m.contains(key) || m[key].is_null() || m[key].get<std::string>().empty(), source,
                ": BPE option '", key, "' is not supported");
  DRLLM_CHECK(!m.contains("dropout") || m["dropout"].is_null(), source, ": BPE dropout is not supported");
  TokenIds vocab;
  vocab.reserve(m.at("vocab").size());
  DRLLM_CHECK(m.at("vocab").is_object(), source, ": model.vocab must be an object of token: id");
  std::unordered_map<int32_t, std::string> token_of_id;
  for (auto it = m["vocab"].begin(); it != m["vocab"].end(); ++it) {
    const int32_t id = token_id_from_json(it.value(), "vocabulary token '" + it.key() + "'", source);
    const auto [seen, fresh] = token_of_id.emplace(id, it.key());
    DRLLM_CHECK(fresh, source, ": vocabulary tokens '", seen->second, "' and '", it.key(), "' both have id ", id);
    vocab.emplace(it.key(), id);
  }
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(m.at("merges").size());
  for (const auto& merge : m["merges"]) {
    if (merge.is_array()) {
      merges.emplace_back(merge.at(0).get<std::string>(), merge.at(1).get<std::string>());
    } else {
      const std::string& s = merge.get_ref<const std::string&>();
      size_t space = s.find(' ');
      DRLLM_CHECK(space != std::string::npos, source, ": merge '", s, "' is not two tokens");
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    }
  }
  BpeOptions options;
  options.ignore_merges = m.value("ignore_merges", false);
  options.byte_fallback = m.value("byte_fallback", false);
  options.fuse_unk = m.value("fuse_unk", false);
  if (m.contains("unk_token") && m["unk_token"].is_string()) {
    auto it = vocab.find(m["unk_token"].get<std::string>());
    DRLLM_CHECK(it != vocab.end(), source, ": unk_token '", m["unk_token"].get<std::string>(),
                "' is not in the vocabulary");
    options.unk_id = it->second;
  }
  return std::make_unique<BpeModel>(std::move(vocab), merges, options, source);
}

// The ids the post-processor puts before and after a single sequence.
void parse_post_processor(const json& p, const std::string& source, std::vector<int32_t>& prefix,
                          std::vector<int32_t>& suffix) {
  if (p.is_null()) return;
  std::string type = p.value("type", "");
  if (type == "Sequence") {
    for (const auto& q : p.at("processors")) parse_post_processor(q, source, prefix, suffix);
  } else if (type == "ByteLevel") {
    // Only adjusts offsets; ids are unchanged.
  } else if (type == "TemplateProcessing") {
    bool seen_sequence = false;
    for (const auto& item : p.at("single")) {
      if (item.contains("Sequence")) {
        seen_sequence = true;
        continue;
      }
      std::string name = item.at("SpecialToken").at("id").get<std::string>();
      const auto& special = p.at("special_tokens").at(name);
      for (const auto& id : special.at("ids"))
        (seen_sequence ? suffix : prefix).push_back(token_id_from_json(id, "post-processor token '" + name + "'", source));
    }
  } else {
    throw Error(cat(source, ": post-processor type '", type,
                    "' is not supported; supported: TemplateProcessing, ByteLevel, Sequence"));
  }
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::from_file(const std::string& path) {
  if (formats::is_gguf_path(path))
    return from_json_text(tokenizer_json_from_gguf(formats::GgufFile(path)), path);
  return from_json_text(read_input_file(path, "tokenizer file", 1 * kGiB), path);
}

Tokenizer Tokenizer::from_json_text(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(cat(source, ": not valid JSON: ", e.what()));
  }
  DRLLM_CHECK(j.is_object() && j.contains("model"), source, ": not a tokenizer.json (no 'model')");
  auto impl = std::make_unique<Impl>();
  impl->source = source;
  try {
    impl->model = parse_model(j["model"], source);
    impl->normalizer = TextNormalizer::from_json(j.value("normalizer", json()), source);
    impl->pre_tokenizer = PreTokenizer::from_json(j.value("pre_tokenizer", json()), source);
    impl->added = AddedVocabulary::from_json(j.value("added_tokens", json()), source);
    impl->decoder = TokenDecoder::from_json(j.value("decoder", json()), source);
    parse_post_processor(j.value("post_processor", json()), source, impl->prefix_ids, impl->suffix_ids);
  } catch (const json::exception& e) {
    throw Error(cat(source, ": malformed tokenizer.json: ", e.what()));
  }
  // The ids number the tokens 0..N-1 (every real tokenizer.json does): an id past the N distinct ids would make a
  // table mostly of holes, and is a damaged or hostile file.
  std::unordered_set<int32_t> ids;
  int32_t size = 0;
  for (const auto& [token, id] : impl->model->vocab()) ids.insert(id), size = std::max(size, id + 1);
  for (const AddedToken& t : impl->added.tokens()) ids.insert(t.id), size = std::max(size, t.id + 1);
  DRLLM_CHECK(static_cast<size_t>(size) == ids.size(), source, ": token id ", size - 1,
              " is past the vocabulary: there are ", ids.size(), " distinct ids, so ids must number them 0..",
              static_cast<int64_t>(ids.size()) - 1);
  for (int32_t id : impl->prefix_ids) DRLLM_CHECK(id < size, source, ": post-processor id ", id, " is past the vocabulary");
  for (int32_t id : impl->suffix_ids) DRLLM_CHECK(id < size, source, ": post-processor id ", id, " is past the vocabulary");
  impl->id_to_token.assign(static_cast<size_t>(size), "");
  for (const auto& [token, id] : impl->model->vocab()) impl->id_to_token[id] = token;
  for (const AddedToken& t : impl->added.tokens()) impl->id_to_token[t.id] = t.content;
  return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::string valid = utf8_is_valid(text) ? std::string(text) : utf8_make_valid(text);
  std::vector<int32_t> ids;
  if (add_special_tokens) ids = impl_->prefix_ids;
  for (const TextPiece& piece : impl_->added.split(valid, /*normalized=*/false)) {
    if (piece.id >= 0)
      ids.push_back(piece.id);
    else
      impl_->encode_plain(piece.text, ids);
  }
  if (add_special_tokens) ids.insert(ids.end(), impl_->suffix_ids.begin(), impl_->suffix_ids.end());
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (skip_special_tokens && is_special(id)) continue;
    tokens.push_back(id_to_token(id));
  }
  return impl_->decoder.decode(std::move(tokens));
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& t : impl_->added.tokens())
    if (t.content == token) return t.id;
  return impl_->model->id_of(token);
}

std::string Tokenizer::id_to_token(int32_t id) const {
  DRLLM_CHECK(id >= 0 && id < vocab_size() && !(impl_->id_to_token[id].empty() && !impl_->added.find(id)),
              impl_->source, ": token id ", id, " is not in the vocabulary (size ", vocab_size(), ")");
  return impl_->id_to_token[static_cast<size_t>(id)];
}

bool Tokenizer::is_special(int32_t id) const {
  const AddedToken* t = impl_->added.find(id);
  return t && t->special;
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->id_to_token.size()); }

// ---------------------------------------------------------------------------------------------------------

size_t complete_text_length(std::string_view decoded) {
  size_t length = decoded.size();
  while (length >= 3 && decoded.compare(length - 3, 3, "\xEF\xBF\xBD") == 0) length -= 3;
  return length;
}

std::string StreamingDecoder::push(int32_t id) {
  ids_.push_back(id);
  std::string text = tokenizer_.decode(ids_, skip_special_);
  const size_t stable = complete_text_length(text);
  if (stable <= emitted_) return "";
  std::string fresh = text.substr(emitted_, stable - emitted_);
  emitted_ = stable;
  return fresh;
}

std::string StreamingDecoder::finish() {
  std::string text = tokenizer_.decode(ids_, skip_special_);
  std::string rest = text.size() > emitted_ ? text.substr(emitted_) : "";
  emitted_ = text.size();
  return rest;
}

}  // namespace drllm::text
