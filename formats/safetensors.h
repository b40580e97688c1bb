// Safetensors files read by mmap: one file, or a sharded checkpoint through model.safetensors.index.json.
// The header is validated whole before any tensor is handed out: length within the file, every dtype known,
// every shape consistent with its byte range, every range inside the data section, no two ranges overlapping.
// Torch-free on purpose: model/weights.cpp turns the raw views into tensors.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace drllm::formats {

enum class StDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

std::string to_string(StDType dtype);
size_t element_size(StDType dtype);

struct TensorInfo {
  std::string name;
  StDType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets inside the data section, [begin, end)
  uint64_t end = 0;
  int64_t numel() const;
};

// A read-only mapping of a whole file; unmapped on destruction.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // maps and validates; throws drllm::Error
  const std::string& path() const { return file_.path(); }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(const std::string& name) const;
  const uint8_t* bytes(const TensorInfo& info) const { return data_begin_ + info.begin; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  MappedFile file_;
  const uint8_t* data_begin_ = nullptr;
  std::vector<TensorInfo> tensors_;  // sorted by begin offset
  std::map<std::string, size_t> by_name_;
  std::map<std::string, std::string> metadata_;
};

// All tensors of a checkpoint folder: model.safetensors, or the shards model.safetensors.index.json names.
class SafetensorsCheckpoint {
 public:
  explicit SafetensorsCheckpoint(const std::string& model_dir);
  struct Entry {
    const SafetensorsFile* file;
    const TensorInfo* info;
  };
  // Throws naming the tensor and the checkpoint when absent.
  Entry get(const std::string& name) const;
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  const std::map<std::string, Entry>& entries() const { return entries_; }
  size_t num_files() const { return files_.size(); }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Entry> entries_;
};

}  // namespace drllm::formats
