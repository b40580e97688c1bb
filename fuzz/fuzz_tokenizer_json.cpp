// tokenizer.json: the model, vocabulary, merges, added tokens, normalizer, pre-tokenizer and decoder sections;
// then a round trip through what was read.
#include "data/text/tokenizer.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return drllm::fuzz::expect_success_or_error([&] {
    const auto tokenizer = drllm::text::Tokenizer::from_json_text(text, "fuzz/tokenizer.json");
    tokenizer.decode(tokenizer.encode("Hello, world! 123 <|im_start|>"), false);
  });
}
