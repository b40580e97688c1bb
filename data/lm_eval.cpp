#include "data/lm_eval.h"

#include "common/error.h"
#include "data/tokenizer.h"
#include "data/unicode.h"

namespace drllm::data {

LoglikelihoodRequest encode_pair(const Tokenizer& tokenizer, std::string context, std::string continuation,
                                 bool add_bos) {
  LoglikelihoodRequest r;
  if (context.empty()) {
    // The harness scores a bare continuation after the prefix token (BOS, else EOS).
    auto prefix = tokenizer.encode("", /*add_special_tokens=*/true);
    DRLLM_CHECK(!prefix.empty(), "lm-eval request with an empty context needs a BOS token in the tokenizer");
    r.context = prefix;
    r.continuation = tokenizer.encode(continuation, false);
    return r;
  }
  // Python's context.rstrip(): the trailing whitespace moves to the continuation.
  size_t end = context.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(context[start]) & 0xC0) == 0x80) --start;
    size_t pos = start;
    if (!is_python_space(next_code_point(context, pos))) break;
    end = start;
  }
  continuation = context.substr(end) + continuation;
  context.resize(end);
  std::vector<int32_t> whole = tokenizer.encode(context + continuation, add_bos);
  r.context = tokenizer.encode(context, add_bos);
  DRLLM_CHECK(r.context.size() <= whole.size(), "lm-eval request: the context encodes longer than the whole");
  r.continuation.assign(whole.begin() + static_cast<long>(r.context.size()), whole.end());
  return r;
}

std::string lm_eval_context(const std::string& task, const Example& ex) {
  if (task == "arc" || task == "piqa") return "Question: " + ex.question + "\nAnswer:";
  if (task == "openbookqa") return ex.question;
  if (task == "mmlu") {
    std::string subject = ex.subject;
    for (char& c : subject)
      if (c == '_') c = ' ';
    std::string out = "The following are multiple choice questions (with answers) about " + subject + ".\n\n" +
                      python_strip(ex.question);
    DRLLM_CHECK(ex.choices.size() == 4, "mmlu example ", ex.id, " has ", ex.choices.size(), " choices, not 4");
    for (size_t i = 0; i < 4; ++i) out += std::string("\n") + static_cast<char>('A' + i) + ". " + ex.choices[i];
    return out + "\nAnswer:";
  }
  throw Error(cat("lm-eval task '", task, "' is not known; known: arc, piqa, openbookqa, mmlu"));
}

std::vector<std::string> lm_eval_choices(const std::string& task, const Example& ex) {
  if (task == "mmlu") return {"A", "B", "C", "D"};
  return ex.choices;
}

}  // namespace drllm::data
