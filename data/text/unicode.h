// UTF-8 helpers for the tokenizer: lossy decoding with Python's and Rust's replacement rule (one U+FFFD per
// maximal ill-formed subpart), NFC through utf8proc, and GPT-2's byte <-> printable-character table that
// byte-level BPE uses.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace drllm::text {

// `bytes` with every ill-formed subsequence replaced by U+FFFD, as bytes.decode('utf-8', 'replace') does.
std::string utf8_make_valid(std::string_view bytes);
bool utf8_is_valid(std::string_view bytes);

// Length in bytes of the UTF-8 character that starts with `lead` (1 for a stray continuation byte).
inline size_t utf8_char_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// Unicode normal forms of valid UTF-8 (utf8proc); NFC passes ASCII through untouched.
std::string nfc(std::string_view text);
std::string nfkc(std::string_view text);
std::string nfd(std::string_view text);

// GPT-2's bytes_to_unicode: each byte as one printable code point, UTF-8 encoded.
class ByteLevelAlphabet {
 public:
  static const ByteLevelAlphabet& get();
  const std::string& encode(uint8_t byte) const { return byte_to_text_[byte]; }
  // Maps a code point back to its byte; -1 when the code point is not in the table.
  int decode(uint32_t code_point) const { return code_point < 324 ? code_point_to_byte_[code_point] : -1; }

 private:
  ByteLevelAlphabet();
  std::array<std::string, 256> byte_to_text_;
  std::array<int, 324> code_point_to_byte_;
};

// Python's str.isspace() for one code point, and str.strip() / str.lower() of UTF-8 text.
bool is_python_space(uint32_t code_point);
std::string python_strip(std::string_view text);
std::string python_lower(std::string_view text);
// Number of code points (Python's len of a str).
size_t code_point_count(std::string_view text);

// Appends the UTF-8 encoding of a code point.
void append_utf8(std::string& out, uint32_t code_point);
// Decodes the code point at `pos` of valid UTF-8 and advances `pos`.
uint32_t next_code_point(std::string_view text, size_t& pos);

}  // namespace drllm::text
