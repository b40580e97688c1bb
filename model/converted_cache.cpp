#include "model/converted_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/sha256.h"
#include "formats/safetensors.h"
#include "model/compute_dtype.h"
#include "model/gguf_model.h"
#include "model/model_files.h"
#include "model/registry.h"
#include "model/safetensors_writer.h"

namespace drllm::model {
namespace {

namespace fs = std::filesystem;

// Bump when the layout below changes: older files then fail verification and are rebuilt.
constexpr const char* kLayoutVersion = "drllm-runtime-layout-1";
constexpr size_t kSampleBytes = 4096;

// Every tensor of the runtime layout the config implies, by name, with its shape; `tensor` points into `w`.
struct Field {
  std::string name;
  std::vector<int64_t> shape;
  at::Tensor* tensor;
};

std::vector<Field> layout(const ModelConfig& c, BackboneWeights& w) {
  const int64_t D = c.hidden_size, F = c.intermediate_size, Dh = c.head_dim;
  const int64_t qkv = (c.num_heads + 2 * c.num_kv_heads) * Dh;
  std::vector<Field> fields = {{"embed", {c.vocab_size, D}, &w.embed}, {"final_norm", {D}, &w.final_norm}};
  if (!c.tie_word_embeddings) fields.push_back({"lm_head", {c.vocab_size, D}, &w.lm_head});
  w.layers.resize(static_cast<size_t>(c.num_layers));
  for (int64_t i = 0; i < c.num_layers; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = "layers." + std::to_string(i) + ".";
    auto add = [&](const char* name, std::vector<int64_t> shape, at::Tensor* t, bool wanted) {
      if (wanted) fields.push_back({p + name, std::move(shape), t});
    };
    add("input_norm", {D}, &l.input_norm, true);
    add("qkv_w", {qkv, D}, &l.qkv_w, true);
    add("qkv_b", {qkv}, &l.qkv_b, c.qkv_bias);
    add("q_norm", {Dh}, &l.q_norm, c.qk_norm);
    add("k_norm", {Dh}, &l.k_norm, c.qk_norm);
    add("o_w", {D, c.num_heads * Dh}, &l.o_w, true);
    add("o_b", {D}, &l.o_b, c.o_bias);
    add("post_norm", {D}, &l.post_norm, true);
    add("gate_up_w", {2 * F, D}, &l.gate_up_w, true);
    add("gate_up_b", {2 * F}, &l.gate_up_b, c.mlp_bias);
    add("down_w", {D, F}, &l.down_w, true);
    add("down_b", {D}, &l.down_b, c.mlp_bias);
  }
  return fields;
}

// sha256 over every tensor's name and its first and last kSampleBytes: cheap enough for every start, and a
// torn or overwritten file shows in it.
std::string sample_sha256(const std::vector<std::pair<std::string, const uint8_t*>>& tensors,
                          const std::vector<uint64_t>& sizes) {
  Sha256 h;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, bytes] = tensors[i];
    const uint64_t n = sizes[i], head = std::min<uint64_t>(n, kSampleBytes);
    h.update(name);
    h.update(std::string_view(reinterpret_cast<const char*>(bytes), head));
    if (n > head) {
      const uint64_t tail = std::min<uint64_t>(n - head, kSampleBytes);
      h.update(std::string_view(reinterpret_cast<const char*>(bytes + n - tail), tail));
    }
  }
  return h.hex_digest();
}

std::string converted_dir() { return (fs::path(drllm_cache_dir()) / "converted").string(); }

// The file's weights as views of its mapping (kept alive by the tensors), after checking all of it against what
// it should be; throws saying what is wrong.
BackboneWeights map_converted(const std::string& path, const ModelConfig& config, const std::string& source_sha256,
                              at::ScalarType dtype) {
  auto file = std::make_shared<formats::SafetensorsFile>(path);  // validates the header whole
  const auto& meta = file->metadata();
  auto meta_is = [&](const char* key, const std::string& want) {
    auto it = meta.find(key);
    DRLLM_CHECK(it != meta.end() && it->second == want, path, ": records ", key, " '",
                it == meta.end() ? std::string("(none)") : it->second, "', expected '", want, "'");
  };
  meta_is("layout", kLayoutVersion);
  meta_is("source_sha256", source_sha256);
  meta_is("dtype", dtype_name(dtype));
  BackboneWeights w;
  std::vector<Field> fields = layout(config, w);
  DRLLM_CHECK(file->tensors().size() == fields.size(), path, ": holds ", file->tensors().size(), " tensors, the config implies ",
              fields.size());
  std::vector<std::pair<std::string, const uint8_t*>> samples;
  std::vector<uint64_t> sizes;
  for (Field& f : fields) {
    const formats::TensorInfo* info = file->find(f.name);
    DRLLM_CHECK(info, path, ": has no tensor ", f.name);
    DRLLM_CHECK(info->shape == f.shape && scalar_type_of(info->dtype) == dtype, path, ": tensor ", f.name,
                " has the wrong shape or dtype");
    const uint8_t* bytes = file->bytes(*info);
    samples.emplace_back(f.name, bytes);
    sizes.push_back(info->end - info->begin);
    // A view of the read-only mapping; the backbone never writes its weights.
    *f.tensor = at::from_blob(const_cast<uint8_t*>(bytes), info->shape, [file](void*) {},
                              at::TensorOptions().dtype(dtype));
  }
  meta_is("sample_sha256", sample_sha256(samples, sizes));
  if (config.tie_word_embeddings) w.lm_head = w.embed;
  return w;
}

void write_converted(const std::string& path, const ModelConfig& config, BackboneWeights& w,
                     const std::string& source_sha256, const std::string& source_name, at::ScalarType dtype) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::vector<std::pair<std::string, const uint8_t*>> samples;
  std::vector<uint64_t> sizes;
  for (Field& f : layout(config, w)) {
    at::Tensor t = f.tensor->contiguous();
    tensors.emplace_back(f.name, t);
    samples.emplace_back(f.name, static_cast<const uint8_t*>(t.data_ptr()));
    sizes.push_back(static_cast<uint64_t>(t.numel()) * t.element_size());
  }
  save_safetensors(path, tensors,
                   {{"layout", kLayoutVersion},
                    {"source_sha256", source_sha256},
                    {"source_file", source_name},
                    {"dtype", dtype_name(dtype)},
                    {"sample_sha256", sample_sha256(samples, sizes)}});
}

// An exclusive lock on PATH.lock for as long as it lives (flock: released if the process dies).
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    DRLLM_CHECK(fd_ >= 0, path, ".lock: cannot open: ", std::strerror(errno));
    ::flock(fd_, LOCK_EX);
  }
  ~FileLock() { ::close(fd_); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace

bool converted_cache_enabled() {
  const char* env = std::getenv("DRLLM_CONVERTED_CACHE");
  return !env || (std::string(env) != "off" && std::string(env) != "0");
}

std::string converted_cache_path(const std::string& source_sha256, at::ScalarType dtype) {
  return (fs::path(converted_dir()) / (source_sha256.substr(0, 32) + "-" + dtype_name(dtype) + ".safetensors")).string();
}

std::string remembered_file_sha256(const std::string& path) {
  struct stat st {};
  DRLLM_CHECK(::stat(path.c_str(), &st) == 0, path, ": cannot stat: ", std::strerror(errno));
  const std::string canonical = fs::canonical(path).string();
  const nlohmann::json identity = {{"path", canonical},
                                   {"size", static_cast<int64_t>(st.st_size)},
                                   {"mtime_ns", static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec},
                                   {"inode", static_cast<uint64_t>(st.st_ino)}};
  // In a folder of their own, beside the converted weights: the fingerprint uses them too, with the converted
  // cache on or off.
  const fs::path stamp = fs::path(drllm_cache_dir()) / "file-hashes" / (sha256_hex(canonical).substr(0, 32) + ".json");
  try {
    std::ifstream in(stamp);
    if (in) {
      nlohmann::json j = nlohmann::json::parse(in);
      if (j.at("identity") == identity) return j.at("sha256").get<std::string>();
    }
  } catch (const std::exception&) {
    // An unreadable stamp is rewritten below.
  }
  const std::string sha = sha256_file_hex(path);
  const nlohmann::json j = {{"identity", identity}, {"sha256", sha}};
  // Ranks hash the same source at the same start, before any lock: each writes a file of its own (PID in the
  // name) and renames it over the stamp, so no two share write_file_atomically's PATH.tmp. The stamp only saves
  // the next start the hashing: a cache that cannot be written costs time, not the run.
  try {
    fs::create_directories(stamp.parent_path());
    write_file_atomically(stamp.string() + "." + std::to_string(::getpid()),
                          [&](std::ostream& out) { out << j.dump(2) << "\n"; });
    fs::rename(stamp.string() + "." + std::to_string(::getpid()), stamp);
  } catch (const std::exception&) {
  }
  return sha;
}

BackboneWeights load_gguf_weights_cached(const ModelFiles& files, const ModelConfig& config, at::ScalarType dtype,
                                         at::Device device, std::ostream* log, const StageRange& stage) {
  auto dequantize = [&] { return load_weights(GgufWeightSource(files.gguf(), config, dtype, device), config, stage); };
  if (!converted_cache_enabled()) return dequantize();
  std::string sha, path;
  std::optional<FileLock> lock;
  try {
    sha = remembered_file_sha256(files.path());
    path = converted_cache_path(sha, dtype);
    fs::create_directories(converted_dir());
    lock.emplace(path);  // ranks starting together: one converts, the others wait and map
  } catch (const std::exception& e) {
    if (log) *log << "the converted cache is not usable here (" << e.what() << "); dequantizing at this start\n";
    return dequantize();
  }
  auto on_device = [&](BackboneWeights w) {
    keep_stage_only(w, stage);
    if (device.is_cpu()) return w;
    for (Field& f : layout(config, w))
      if (f.tensor->defined()) *f.tensor = f.tensor->to(device);
    if (config.tie_word_embeddings && stage.last())  // tied: not a field of its own
      w.lm_head = stage.first() ? w.embed : w.lm_head.to(device);
    return w;
  };
  if (fs::exists(path)) {
    try {
      return on_device(map_converted(path, config, sha, dtype));
    } catch (const Error& e) {
      if (log) *log << "converted cache " << path << " is not usable (" << e.what() << "): rebuilding it\n";
      fs::remove(path);
    }
  }
  if (log) *log << "converting " << files.path() << " to " << dtype_name(dtype) << " once, into " << path << "\n";
  BackboneWeights w = load_weights(GgufWeightSource(files.gguf(), config, dtype, at::kCPU), config);
  try {
    write_converted(path, config, w, sha, fs::path(files.path()).filename().string(), dtype);
  } catch (const std::exception& e) {
    // A full disk or a read-only cache costs the next start its speed, not this job its run.
    if (log) *log << "could not write the converted cache (" << e.what() << "); running from the dequantized weights\n";
    return on_device(std::move(w));
  }
  w = {};  // the dequantized copy: from now on the mapped file serves
  return on_device(map_converted(path, config, sha, dtype));
}

}  // namespace drllm::model
