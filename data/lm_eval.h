// lm-evaluation-harness' multiple-choice requests (v0.4.9.1, SPEC-grading §3): the context of each task
// (doc_to_text), the choices (doc_to_choice, continuation = " " + choice), and _encode_pair's tokenisation
// (trailing whitespace of the context moves to the continuation; continuation ids = ids of the joined string
// past the context's ids; no BOS unless asked).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace drllm::data {

class Tokenizer;

struct LoglikelihoodRequest {
  std::vector<int32_t> context;       // what the model reads
  std::vector<int32_t> continuation;  // whose log-likelihood is summed
};

LoglikelihoodRequest encode_pair(const Tokenizer& tokenizer, std::string context, std::string continuation,
                                 bool add_bos);

// Task formats: "arc", "piqa", "openbookqa", "mmlu" (the description line uses example.subject).
std::string lm_eval_context(const std::string& task, const Example& example);
std::vector<std::string> lm_eval_choices(const std::string& task, const Example& example);

}  // namespace drllm::data
