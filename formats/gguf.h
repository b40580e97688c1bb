// GgufFile: a GGUF v2/v3 file read by mmap (llama.cpp's format: header, typed metadata, tensor infos, aligned
// data). Every count, length and offset is bounded by the file before anything is allocated or read, in the
// spirit of llama.cpp's gguf_init_from_reader; each problem is an error naming the file, key or tensor.
// Torch-free: model/gguf_weights.cpp turns tensors into weights.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "formats/safetensors.h"  // MappedFile

namespace drllm::formats {

// ggml tensor types drllm reads (values are ggml's).
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q4_K = 12, Q5_K = 13, Q6_K = 14, BF16 = 30
};

std::string to_string(GgmlType type);
// Elements per block and bytes per block of a type.
size_t ggml_block_elements(GgmlType type);
size_t ggml_block_bytes(GgmlType type);

// A metadata value: scalars widened, strings, or arrays of them.
struct GgufValue;
using GgufArray = std::vector<GgufValue>;
struct GgufValue {
  std::variant<uint64_t, int64_t, double, bool, std::string, GgufArray> value;
  uint32_t type = 0;  // the GGUF value type as stored
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // ggml order: shape[0] is the innermost (contiguous) dimension
  GgmlType type;
  uint64_t offset = 0;  // from the start of the data section
  uint64_t bytes = 0;
  int64_t numel() const;
};

class GgufFile {
 public:
  explicit GgufFile(const std::string& path);  // maps and validates; throws drllm::Error

  const std::string& path() const { return file_.path(); }
  uint32_t version() const { return version_; }
  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  const uint8_t* tensor_data(const GgufTensorInfo& info) const { return data_ + info.offset; }
  // The header, metadata and tensor infos: everything before the tensor data.
  std::string_view header_bytes() const {
    return {reinterpret_cast<const char*>(file_.data()), static_cast<size_t>(data_ - file_.data())};
  }

  bool has(const std::string& key) const { return metadata_.count(key) != 0; }
  // Typed access: throws naming the key when it is missing or of another type.
  std::string get_string(const std::string& key) const;
  uint64_t get_uint(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const GgufArray& get_array(const std::string& key) const;
  std::optional<uint64_t> find_uint(const std::string& key) const;
  std::optional<double> find_float(const std::string& key) const;

 private:
  MappedFile file_;
  uint32_t version_ = 0;
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> by_name_;
  const uint8_t* data_ = nullptr;
};

// True for a path named *.gguf (whether it exists is the reader's to report).
bool is_gguf_path(const std::string& path);

// Dequantizes `count` elements (a multiple of the block size) of `type` at `src` into fp32, with the same
// arithmetic as ggml and the Python gguf package (bit-identical results).
void dequantize(GgmlType type, const uint8_t* src, float* dst, int64_t count);

}  // namespace drllm::formats
