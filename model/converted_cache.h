// The converted cache: a GGUF model's weights dequantized once into the compute dtype and kept beside the model
// cache (DRLLM_CACHE/converted/SHA256-DTYPE.safetensors, in the backbone's runtime layout: q/k/v and gate/up
// already fused), so that a started job maps them instead of dequantizing Q4_K for seconds at every start.
//   - Keyed by the sha256 of the GGUF file's bytes and the dtype. The sha256 is remembered per source file
//     (its path, size, modification time and inode), so a file that changed is hashed again: a stale entry is
//     never looked up.
//   - Verified before use: the safetensors header whole (formats/safetensors.h), the source sha256, dtype and
//     layout it records, every tensor's shape, and a sha256 of the first and last 4 KiB of every tensor. A
//     damaged or mismatching file is removed and rebuilt, never used.
//   - Made once per machine: ranks that start together take a lock, the first converts and the others map.
//   - Written to a temporary name and renamed, so an interrupted conversion leaves nothing that looks whole.
// DRLLM_CONVERTED_CACHE=off turns it off (every start dequantizes).
#pragma once

#include <ATen/ATen.h>

#include <ostream>
#include <string>

#include "model/model_config.h"
#include "model/weights.h"

namespace drllm::model {

class ModelFiles;

// The GGUF model's weights in `dtype` on `device`, from the converted cache (made first if needed). `log`
// hears about conversions and rebuilds (nullptr: silent). Only `stage`'s tensors are kept (and moved to the device);
// of the mapped file's other pages only the samples the check hashes are read, so the rest take no memory.
BackboneWeights load_gguf_weights_cached(const ModelFiles& files, const ModelConfig& config, at::ScalarType dtype,
                                         at::Device device, std::ostream* log, const StageRange& stage);

// Whether the cache is on ($DRLLM_CONVERTED_CACHE is not "off" or "0").
bool converted_cache_enabled();

// Where the converted weights of a source of this sha256 in this dtype live.
std::string converted_cache_path(const std::string& source_sha256, at::ScalarType dtype);

// The sha256 of a file's bytes, remembered per (path, size, mtime, inode) in DRLLM_CACHE/file-hashes (a stamp
// that cannot be written costs the next start the hashing, nothing else).
std::string remembered_file_sha256(const std::string& path);

}  // namespace drllm::model
