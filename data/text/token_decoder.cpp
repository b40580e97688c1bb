#include "data/text/token_decoder.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/strings.h"
#include "data/text/unicode.h"

namespace drllm::text {
namespace {

// "<0x41>" -> 0x41, else -1.
int byte_token_value(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  int value = 0;
  for (int i = 3; i < 5; ++i) {
    char c = t[i];
    int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

// ByteLevel: a token whose every code point is in the byte table becomes those bytes; any other token
// (an added token with a space, say) is kept as its own UTF-8.
std::string byte_level_bytes(const std::vector<std::string>& tokens) {
  const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::get();
  std::string bytes, token_bytes;
  for (const std::string& t : tokens) {
    token_bytes.clear();
    bool mapped = true;
    for (size_t pos = 0; pos < t.size() && mapped;) {
      int b = alphabet.decode(next_code_point(t, pos));
      if (b < 0)
        mapped = false;
      else
        token_bytes.push_back(static_cast<char>(b));
    }
    bytes += mapped ? token_bytes : t;
  }
  return bytes;
}

std::vector<std::string> byte_fallback(const std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  std::string run;
  size_t run_tokens = 0;
  auto flush = [&] {
    if (run_tokens == 0) return;
    if (utf8_is_valid(run)) {
      out.push_back(run);
    } else {
      std::string replacement;
      for (size_t i = 0; i < run_tokens; ++i) replacement += "\xEF\xBF\xBD";
      out.push_back(replacement);
    }
    run.clear();
    run_tokens = 0;
  };
  for (const std::string& t : tokens) {
    int b = byte_token_value(t);
    if (b >= 0) {
      run.push_back(static_cast<char>(b));
      ++run_tokens;
    } else {
      flush();
      out.push_back(t);
    }
  }
  flush();
  return out;
}

std::string strip(const std::string& t, const std::string& ch, size_t start, size_t stop) {
  size_t begin = 0, end = t.size();
  for (size_t i = 0; i < start && t.compare(begin, ch.size(), ch) == 0 && begin < end; ++i) begin += ch.size();
  for (size_t i = 0; i < stop && end >= begin + ch.size() && t.compare(end - ch.size(), ch.size(), ch) == 0; ++i)
    end -= ch.size();
  return t.substr(begin, end - begin);
}

}  // namespace

void TokenDecoder::add(const nlohmann::json& j, const std::string& source, std::vector<Step>& steps) {
  if (j.is_null()) return;
  std::string type = j.value("type", "");
  if (type == "Sequence") {
    for (const auto& d : j.at("decoders")) add(d, source, steps);
  } else if (type == "ByteLevel") {
    steps.push_back({Step::ByteLevel, "", ""});
  } else if (type == "Replace") {
    DRLLM_CHECK(j.at("pattern").contains("String"), source, ": decoder Replace with a regex is not supported");
    steps.push_back({Step::Replace, j["pattern"]["String"].get<std::string>(), j.at("content").get<std::string>()});
  } else if (type == "ByteFallback") {
    steps.push_back({Step::ByteFallback, "", ""});
  } else if (type == "Fuse") {
    steps.push_back({Step::Fuse, "", ""});
  } else if (type == "Strip") {
    Step s{Step::Strip, j.at("content").get<std::string>(), ""};
    s.start = j.value("start", 0);
    s.stop = j.value("stop", 0);
    steps.push_back(s);
  } else {
    throw Error(cat(source, ": decoder type '", type,
                    "' is not supported; supported: ByteLevel, Replace, ByteFallback, Fuse, Strip, Sequence"));
  }
}

TokenDecoder TokenDecoder::from_json(const nlohmann::json& j, const std::string& source) {
  TokenDecoder d;
  add(j, source, d.steps_);
  return d;
}

std::string TokenDecoder::decode(std::vector<std::string> tokens) const {
  for (const Step& step : steps_) {
    switch (step.kind) {
      case Step::ByteLevel:
        tokens = {utf8_make_valid(byte_level_bytes(tokens))};
        break;
      case Step::Replace:
        for (std::string& t : tokens) t = replace_all(t, step.a, step.b);
        break;
      case Step::ByteFallback:
        tokens = byte_fallback(tokens);
        break;
      case Step::Fuse: {
        std::string joined;
        for (const std::string& t : tokens) joined += t;
        tokens = {joined};
        break;
      }
      case Step::Strip:
        for (std::string& t : tokens) t = strip(t, step.a, step.start, step.stop);
        break;
    }
  }
  std::string text;
  for (const std::string& t : tokens) text += t;
  return text;
}

}  // namespace drllm::text
