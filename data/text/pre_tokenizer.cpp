#include "data/text/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "data/text/unicode.h"

namespace drllm::text {

// GPT-2's split pattern, used by ByteLevel when use_regex is true.
static const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// A compiled, JIT-ed PCRE2 pattern in UTF + Unicode-property mode (\s, \w, \d follow Unicode, as the
// Oniguruma patterns of tokenizers do).
class SplitRegex {
 public:
  SplitRegex(const std::string& pattern, const std::string& source) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                          &error, &offset, nullptr);
    if (!code_) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof message);
      throw Error(cat(source, ": split regex does not compile at offset ", offset, ": ",
                      reinterpret_cast<const char*>(message), " (pattern ", pattern, ")"));
    }
    pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is unavailable
    match_ = pcre2_match_data_create_from_pattern(code_, nullptr);
  }
  ~SplitRegex() {
    pcre2_match_data_free(match_);
    pcre2_code_free(code_);
  }
  SplitRegex(const SplitRegex&) = delete;
  SplitRegex& operator=(const SplitRegex&) = delete;

  // Isolated split: every match, and every stretch between matches, is a piece.
  void split(std::string_view text, std::vector<std::string>& pieces) const {
    size_t pos = 0, gap_start = 0;
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    while (pos <= text.size()) {
      int rc = pcre2_match(code_, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, match_, nullptr);
      if (rc < 0) {
        DRLLM_CHECK(rc == PCRE2_ERROR_NOMATCH, "split regex failed with PCRE2 error ", rc);
        break;
      }
      PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match_);
      size_t start = ovector[0], end = ovector[1];
      if (end == start) {  // an empty match splits nothing; step over one character
        pos = start + (start < text.size() ? utf8_char_length(static_cast<unsigned char>(text[start])) : 1);
        continue;
      }
      if (start > gap_start) pieces.emplace_back(text.substr(gap_start, start - gap_start));
      pieces.emplace_back(text.substr(start, end - start));
      pos = gap_start = end;
    }
    if (gap_start < text.size()) pieces.emplace_back(text.substr(gap_start));
  }

 private:
  pcre2_code* code_ = nullptr;
  pcre2_match_data* match_ = nullptr;  // one per regex: the tokenizer is not shared across threads
};

struct PreTokenizer::Step {
  enum Kind { Split, ByteLevel } kind;
  std::unique_ptr<SplitRegex> regex;  // Split, or ByteLevel with use_regex
  bool add_prefix_space = false;      // ByteLevel
};

PreTokenizer::PreTokenizer() = default;
PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

void PreTokenizer::add(const nlohmann::json& j, const std::string& source, std::vector<Step>& steps) {
  if (j.is_null()) return;
  std::string type = j.value("type", "");
  if (type == "Sequence") {
    for (const auto& p : j.at("pretokenizers")) add(p, source, steps);
  } else if (type == "Split") {
    DRLLM_CHECK(j.value("behavior", "") == "Isolated" && !j.value("invert", false), source,
                ": Split pre-tokenizer with behavior '", j.value("behavior", ""),
                "' is not supported (only Isolated, not inverted)");
    const auto& pattern = j.at("pattern");
    std::string regex;
    if (pattern.contains("Regex")) {
      regex = pattern["Regex"].get<std::string>();
    } else {
      // A literal string: quote it for PCRE2.
      regex = "\\Q" + pattern.at("String").get<std::string>() + "\\E";
    }
    steps.push_back({Step::Split, std::make_unique<SplitRegex>(regex, source), false});
  } else if (type == "Digits") {
    // Digits split off: one piece per digit, or per run of digits.
    steps.push_back({Step::Split, std::make_unique<SplitRegex>(j.value("individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)", source), false});
  } else if (type == "ByteLevel") {
    Step step{Step::ByteLevel, nullptr, j.value("add_prefix_space", false)};
    if (j.value("use_regex", true)) step.regex = std::make_unique<SplitRegex>(kGpt2Pattern, source);
    steps.push_back(std::move(step));
  } else {
    throw Error(cat(source, ": pre-tokenizer type '", type,
                    "' is not supported; supported: Split, Digits, ByteLevel, Sequence"));
  }
}

PreTokenizer PreTokenizer::from_json(const nlohmann::json& j, const std::string& source) {
  PreTokenizer p;
  add(j, source, p.steps_);
  return p;
}

bool PreTokenizer::byte_level() const {
  for (const Step& s : steps_)
    if (s.kind == Step::ByteLevel) return true;
  return false;
}

void PreTokenizer::split(std::string_view text, std::vector<std::string>& words) const {
  std::vector<std::string> pieces{std::string(text)}, next;
  for (const Step& step : steps_) {
    next.clear();
    for (std::string& piece : pieces) {
      if (step.kind == Step::ByteLevel && step.add_prefix_space && (piece.empty() || piece[0] != ' '))
        piece.insert(piece.begin(), ' ');
      if (step.regex)
        step.regex->split(piece, next);
      else
        next.push_back(std::move(piece));
    }
    if (step.kind == Step::ByteLevel) {
      const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::get();
      for (std::string& piece : next) {
        std::string mapped;
        mapped.reserve(piece.size() * 2);
        for (char c : piece) mapped += alphabet.encode(static_cast<uint8_t>(c));
        piece = std::move(mapped);
      }
    }
    pieces.swap(next);
  }
  for (std::string& p : pieces)
    if (!p.empty()) words.push_back(std::move(p));
}

}  // namespace drllm::text
