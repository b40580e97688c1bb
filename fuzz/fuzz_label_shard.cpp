// A label shard and its checksum file: the input is the .sha256 file's line, a newline, then the shard's bytes.
// HDF5 must never see bytes that are not the ones written (it is no parser for hostile files): whatever the
// mutation, the shard is refused before libhdf5 opens it, unless the line is the bytes' real sha256.
#include <algorithm>

#include "data/labels/label_store.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t* newline = std::find(data, data + size, static_cast<uint8_t>('\n'));
  const size_t line = static_cast<size_t>(newline - data);
  const std::string path = drllm::fuzz::write_input("shard-r0-000000.h5", line < size ? newline + 1 : data,
                                                    line < size ? size - line - 1 : 0);
  drllm::fuzz::write_input("shard-r0-000000.h5.sha256", data, line);
  return drllm::fuzz::expect_success_or_error([&] { drllm::labels::read_shard(path, true); });
}
