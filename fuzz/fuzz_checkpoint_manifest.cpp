// A training checkpoint's manifest.json, beside the files a checkpoint holds: verify_checkpoint must name what is
// wrong, never throw or crash.
#include "checkpoints/checkpoint_store.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool files = [] {
    for (const char* name : {"routers.safetensors", "optimizer.safetensors", "state.json"})
      drllm::fuzz::write_input(name, reinterpret_cast<const uint8_t*>(name), 3);
    return true;
  }();
  (void)files;
  drllm::fuzz::write_input("manifest.json", data, size);
  return drllm::fuzz::expect_success_or_error([&] { drllm::checkpoints::verify_checkpoint(drllm::fuzz::scratch_dir()); });
}
