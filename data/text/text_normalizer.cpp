#include "data/text/text_normalizer.h"

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/strings.h"
#include "data/text/unicode.h"

namespace drllm::text {
namespace {

}  // namespace

void TextNormalizer::add(const nlohmann::json& j, const std::string& source, std::vector<Step>& steps) {
  if (j.is_null()) return;
  std::string type = j.value("type", "");
  if (type == "Sequence") {
    for (const auto& n : j.at("normalizers")) add(n, source, steps);
  } else if (type == "NFC") {
    steps.push_back({Step::Nfc, "", ""});
  } else if (type == "NFKC") {
    steps.push_back({Step::Nfkc, "", ""});
  } else if (type == "NFD") {
    steps.push_back({Step::Nfd, "", ""});
  } else if (type == "Prepend") {
    steps.push_back({Step::Prepend, j.at("prepend").get<std::string>(), ""});
  } else if (type == "Replace") {
    DRLLM_CHECK(j.at("pattern").contains("String"), source,
                ": normalizer Replace with a regex pattern is not supported (only literal strings)");
    steps.push_back({Step::Replace, j["pattern"]["String"].get<std::string>(), j.at("content").get<std::string>()});
  } else {
    throw Error(cat(source, ": normalizer type '", type,
                    "' is not supported; supported: NFC, NFKC, NFD, Prepend, Replace, Sequence"));
  }
}

TextNormalizer TextNormalizer::from_json(const nlohmann::json& j, const std::string& source) {
  TextNormalizer n;
  add(j, source, n.steps_);
  return n;
}

std::string TextNormalizer::apply(std::string_view text) const {
  std::string s(text);
  for (const Step& step : steps_) {
    switch (step.kind) {
      case Step::Nfc: s = nfc(s); break;
      case Step::Nfkc: s = nfkc(s); break;
      case Step::Nfd: s = nfd(s); break;
      case Step::Prepend:
        if (!s.empty()) s = step.a + s;  // tokenizers prepends only to non-empty text
        break;
      case Step::Replace: s = replace_all(s, step.a, step.b); break;
    }
  }
  return s;
}

}  // namespace drllm::text
