// safetensors: the header (JSON), the tensor table and its coverage of the data section. Each tensor's bytes are
// touched, so that an offset past the file is found by ASan even where the reader let it through.
#include "formats/safetensors.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = drllm::fuzz::write_input("model.safetensors", data, size);
  return drllm::fuzz::expect_success_or_error([&] {
    drllm::formats::SafetensorsFile file(path);
    volatile uint8_t sum = 0;
    for (const auto& t : file.tensors())
      for (uint64_t i = t.begin; i < t.end; ++i) sum = sum + file.bytes(t)[i - t.begin];
  });
}
