// tokenizer_config.json: its chat_template (recognised as one of the supported families, or refused) and
// bos_token, then a conversation rendered with it.
#include "data/text/chat_template.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = drllm::fuzz::write_input("tokenizer_config.json", data, size);
  return drllm::fuzz::expect_success_or_error([&] {
    const auto chat = drllm::text::ChatTemplate::from_tokenizer_config(path);
    chat.render({{"system", "Be brief."}, {"user", "2+2?"}, {"assistant", "4"}, {"user", "And 3+3?"}}, true);
  });
}
