#include "data/text/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/error.h"
#include "data/text/unicode.h"

namespace drllm::text {

Regex::Regex(const std::string& pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP, &error,
                        &offset, nullptr);
  if (!code_) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw Error(cat("regex '", pattern, "' does not compile at offset ", offset, ": ",
                    reinterpret_cast<const char*>(message)));
  }
  pcre2_jit_compile(static_cast<pcre2_code*>(code_), PCRE2_JIT_COMPLETE);
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

std::optional<RegexMatch> Regex::run(std::string_view text, size_t start, unsigned options) const {
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(code, nullptr);
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start, options, data, nullptr);
  std::optional<RegexMatch> result;
  if (rc >= 0) {
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data);
    uint32_t count = pcre2_get_ovector_count(data);
    RegexMatch m;
    m.begin = ov[0];
    m.end = ov[1];
    for (uint32_t g = 0; g < count; ++g) {
      if (ov[2 * g] == PCRE2_UNSET)
        m.groups.emplace_back(std::nullopt);
      else
        m.groups.emplace_back(std::string(text.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g])));
    }
    result = std::move(m);
  } else if (rc != PCRE2_ERROR_NOMATCH) {
    pcre2_match_data_free(data);
    throw Error(cat("regex match failed with PCRE2 error ", rc));
  }
  pcre2_match_data_free(data);
  return result;
}

std::optional<RegexMatch> Regex::search(std::string_view text, size_t start) const { return run(text, start, 0); }

std::optional<RegexMatch> Regex::match(std::string_view text) const { return run(text, 0, PCRE2_ANCHORED); }

bool Regex::fullmatch(std::string_view text) const {
  return run(text, 0, PCRE2_ANCHORED | PCRE2_ENDANCHORED).has_value();
}

std::vector<RegexMatch> Regex::find_all(std::string_view text) const {
  std::vector<RegexMatch> all;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto m = run(text, pos, 0);
    if (!m) break;
    size_t next = m->end;
    if (m->end == m->begin)  // empty match: step one character, as Python does
      next = m->end + (m->end < text.size() ? utf8_char_length(static_cast<unsigned char>(text[m->end])) : 1);
    all.push_back(std::move(*m));
    pos = next;
  }
  return all;
}

std::string Regex::sub(std::string_view text, const std::string& replacement) const {
  std::string out;
  size_t last = 0;
  for (const RegexMatch& m : find_all(text)) {
    out.append(text.substr(last, m.begin - last));
    for (size_t i = 0; i < replacement.size(); ++i) {
      char c = replacement[i];
      if (c == '\\' && i + 1 < replacement.size() && replacement[i + 1] >= '0' && replacement[i + 1] <= '9') {
        size_t g = static_cast<size_t>(replacement[++i] - '0');
        if (g < m.groups.size() && m.groups[g]) out += *m.groups[g];
      } else {
        out.push_back(c);
      }
    }
    last = m.end;
  }
  out.append(text.substr(last));
  return out;
}

}  // namespace drllm::text
