// What `drllm inspect` prints about a model folder, and the fingerprint that ties labels and checkpoints to
// one backbone: sha256 over config.json's bytes, the tensor index (name, dtype, shape of every tensor, in name
// order) and the sha256 of every weight file; for a GGUF, over the whole file. Weights are part of it because a
// model of the same shape with other weights is another model. A file is hashed once, then its hash is
// remembered by the file's identity (path, size, mtime, inode; model/converted_cache.h), so later starts read
// nothing.
#pragma once

#include <cstdint>
#include <string>

namespace drllm::formats {
class GgufFile;
class SafetensorsCheckpoint;
}

namespace drllm::model {

struct CheckpointSummary {
  int64_t num_tensors = 0;
  int64_t num_parameters = 0;
  int64_t num_files = 0;
  std::string dtypes;       // e.g. "BF16" or "F32+BF16"
  std::string fingerprint;  // sha256 hex
};

// A Hugging Face folder, or a .gguf file (fingerprint: over the whole file).
// Of files already open: commands get it from ModelFiles::summary() (model/model_files.h), which opens them once.
CheckpointSummary summarize_gguf(const formats::GgufFile& gguf);
CheckpointSummary summarize_safetensors(const std::string& config_path, const formats::SafetensorsCheckpoint& checkpoint);

}  // namespace drllm::model
