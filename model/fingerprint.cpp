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
  s.fingerprint = sha256_hex(gguf.header_bytes());
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
  s.fingerprint = hash.hex_digest();
  return s;
}

}  // namespace drllm::model
