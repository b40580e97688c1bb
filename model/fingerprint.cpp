#include "model/fingerprint.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/input_file.h"
#include "common/sha256.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model/converted_cache.h"

namespace drllm::model {

CheckpointSummary summarize_gguf(const formats::GgufFile& gguf) {
  CheckpointSummary s;
  std::map<std::string, int> types;
  for (const formats::GgufTensorInfo& t : gguf.tensors()) {
    s.num_tensors += 1;
    s.num_parameters += t.numel();
    types[to_string(t.type)] += 1;
  }
  for (const auto& [type, count] : types) s.dtypes += (s.dtypes.empty() ? "" : " ") + type + "x" + std::to_string(count);
  s.num_files = 1;
  // The whole file: metadata, tensor table and every weight (a model of the same shape with other weights is
  // another model). Hashed once per file, then remembered by its identity (model/converted_cache.h).
  s.fingerprint = sha256_hex("drllm-fingerprint-v2 gguf " + remembered_file_sha256(gguf.path()));
  return s;
}

CheckpointSummary summarize_safetensors(const std::string& config_path, const formats::SafetensorsCheckpoint& checkpoint) {
  check_input_file(config_path, "model config", 16 * kMiB);
  std::ifstream in(config_path, std::ios::binary);
  DRLLM_CHECK(in, config_path, ": cannot open model config");
  std::stringstream config_bytes;
  config_bytes << in.rdbuf();

  CheckpointSummary s;
  Sha256 hash;
  hash.update(config_bytes.str());
  std::set<std::string> dtypes;
  for (const auto& [name, entry] : checkpoint.entries()) {  // std::map: name order
    const formats::TensorInfo& info = *entry.info;
    std::ostringstream line;
    line << '\n' << name << ' ' << to_string(info.dtype);
    for (int64_t d : info.shape) line << ' ' << d;
    hash.update(line.str());
    s.num_tensors += 1;
    s.num_parameters += info.numel();
    dtypes.insert(to_string(info.dtype));
  }
  for (const std::string& d : dtypes) s.dtypes += (s.dtypes.empty() ? "" : "+") + d;
  s.num_files = static_cast<int64_t>(checkpoint.num_files());
  // And every weight file's bytes, in name order: the same shapes with other weights are another model.
  std::set<std::string> files;
  for (const auto& [name, entry] : checkpoint.entries()) files.insert(entry.file->path());
  hash.update("\nweights v2");
  for (const std::string& file : files)
    hash.update("\n" + std::filesystem::path(file).filename().string() + " " + remembered_file_sha256(file));
  s.fingerprint = hash.hex_digest();
  return s;
}

}  // namespace drllm::model
