// lm-evaluation-harness' tokenisation of a multiple-choice request (v0.4.9.1, _encode_pair): trailing whitespace of
// the context moves to the continuation; continuation ids = ids of the joined string past the context's ids; no BOS
// unless asked. The contexts and choices of each task are in its Task record (data/tasks/task.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/token_id.h"


namespace drllm::text {
class Tokenizer;
}

namespace drllm::tasks {

struct LoglikelihoodRequest {
  std::vector<TokenId> context;       // what the model reads
  std::vector<TokenId> continuation;  // whose log-likelihood is summed
};

LoglikelihoodRequest encode_pair(const text::Tokenizer& tokenizer, std::string context, std::string continuation,
                                 bool add_bos);

}  // namespace drllm::tasks
