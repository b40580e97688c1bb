// GGUF: header, metadata, tensor table, tensor data bounds, and the tokenizer read from the metadata.
#include "data/text/tokenizer.h"
#include "formats/gguf.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = drllm::fuzz::write_input("model.gguf", data, size);
  drllm::fuzz::expect_success_or_error([&] {
    drllm::formats::GgufFile file(path);
    volatile uint8_t sum = 0;
    for (const auto& t : file.tensors())
      for (uint64_t i = 0; i < t.bytes; ++i) sum = sum + file.tensor_data(t)[i];
  });
  return drllm::fuzz::expect_success_or_error([&] {
    const auto tokenizer = drllm::text::Tokenizer::from_file(path);
    tokenizer.decode(tokenizer.encode("ab ba"));
  });
}
