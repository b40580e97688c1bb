#include "data/tasks/lm_eval.h"

#include "common/error.h"
#include "data/text/tokenizer.h"
#include "data/text/unicode.h"

namespace drllm::tasks {

LoglikelihoodRequest encode_pair(const text::Tokenizer& tokenizer, std::string context, std::string continuation,
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
    if (!text::is_python_space(text::next_code_point(context, pos))) break;
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

}  // namespace drllm::tasks
