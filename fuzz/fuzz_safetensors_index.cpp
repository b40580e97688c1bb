// model.safetensors.index.json of a sharded checkpoint, beside one small real shard (model-00001-of-00001).
#include <filesystem>

#include "formats/safetensors.h"
#include "fuzz/fuzz_input.h"

namespace {
// A valid shard of one float32 tensor "a.weight" of shape [2]: what an index may point to.
void write_shard() {
  static bool written = false;
  if (written) return;
  const std::string header = R"({"a.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::string bytes(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) bytes[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  bytes += header + std::string(8, '\0');
  drllm::fuzz::write_input("model-00001-of-00001.safetensors", reinterpret_cast<const uint8_t*>(bytes.data()),
                           bytes.size());
  written = true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  write_shard();
  drllm::fuzz::write_input("model.safetensors.index.json", data, size);
  return drllm::fuzz::expect_success_or_error(
      [&] { drllm::formats::SafetensorsCheckpoint checkpoint(drllm::fuzz::scratch_dir()); });
}
