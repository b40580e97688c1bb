#include "formats/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/input_file.h"

namespace drllm::formats {
namespace {

using nlohmann::json;

// A header larger than this is hostile or broken: real ones are a few MB at most.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

StDType parse_dtype(const std::string& s, const std::string& where) {
  static const std::map<std::string, StDType> table = {
      {"F64", StDType::F64}, {"F32", StDType::F32}, {"F16", StDType::F16}, {"BF16", StDType::BF16},
      {"I64", StDType::I64}, {"I32", StDType::I32}, {"I16", StDType::I16}, {"I8", StDType::I8},
      {"U8", StDType::U8},   {"BOOL", StDType::BOOL}};
  auto it = table.find(s);
  DRLLM_CHECK(it != table.end(), where, ": unsupported dtype '", s, "'");
  return it->second;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

TensorInfo parse_entry(const std::string& name, const json& e, const std::string& path) {
  std::string where = cat(path, ": tensor '", name, "'");
  DRLLM_CHECK(e.is_object(), where, ": header entry is not an object");
  DRLLM_CHECK(e.contains("dtype") && e["dtype"].is_string(), where, ": missing dtype");
  DRLLM_CHECK(e.contains("shape") && e["shape"].is_array(), where, ": missing shape");
  DRLLM_CHECK(e.contains("data_offsets") && e["data_offsets"].is_array() && e["data_offsets"].size() == 2, where,
              ": data_offsets must be a pair");
  TensorInfo info;
  info.name = name;
  info.dtype = parse_dtype(e["dtype"].get<std::string>(), where);
  uint64_t numel = 1;
  for (const auto& d : e["shape"]) {
    DRLLM_CHECK(d.is_number_unsigned(), where, ": shape holds a negative or non-integer dimension");
    uint64_t dim = d.get<uint64_t>();
    DRLLM_CHECK(dim < (1ull << 40) && (dim == 0 || numel <= (1ull << 50) / dim), where, ": shape too large");
    numel *= dim;
    info.shape.push_back(static_cast<int64_t>(dim));
  }
  for (const auto& o : e["data_offsets"])
    DRLLM_CHECK(o.is_number_unsigned(), where, ": data_offsets must be non-negative integers");
  info.begin = e["data_offsets"][0].get<uint64_t>();
  info.end = e["data_offsets"][1].get<uint64_t>();
  DRLLM_CHECK(info.begin <= info.end, where, ": data_offsets begin ", info.begin, " > end ", info.end);
  uint64_t expected = numel * element_size(info.dtype);
  DRLLM_CHECK(info.end - info.begin == expected, where, ": byte range of ", info.end - info.begin,
              " bytes disagrees with dtype ", to_string(info.dtype), " and shape ", shape_text(info.shape),
              " (", expected, " bytes)");
  return info;
}

}  // namespace

std::string to_string(StDType dtype) {
  switch (dtype) {
    case StDType::F64: return "F64";
    case StDType::F32: return "F32";
    case StDType::F16: return "F16";
    case StDType::BF16: return "BF16";
    case StDType::I64: return "I64";
    case StDType::I32: return "I32";
    case StDType::I16: return "I16";
    case StDType::I8: return "I8";
    case StDType::U8: return "U8";
    case StDType::BOOL: return "BOOL";
  }
  return "?";
}

size_t element_size(StDType dtype) {
  switch (dtype) {
    case StDType::F64: case StDType::I64: return 8;
    case StDType::F32: case StDType::I32: return 4;
    case StDType::F16: case StDType::BF16: case StDType::I16: return 2;
    case StDType::I8: case StDType::U8: case StDType::BOOL: return 1;
  }
  return 0;
}

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// ---------------------------------------------------------------------------------------------------------

MappedFile::MappedFile(const std::string& path) : path_(path) {
  // O_NONBLOCK: a FIFO in a weights file's place must be refused, not wait for a writer forever.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  DRLLM_CHECK(fd >= 0, path, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw Error(cat(path, ": cannot stat: ", std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(cat(path, ": is not a regular file (a folder, device, FIFO or socket); weights are read from files"));
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    ::close(fd);
    DRLLM_CHECK(p != MAP_FAILED, path, ": mmap failed: ", std::strerror(err));
    data_ = static_cast<const uint8_t*>(p);
  } else {
    ::close(fd);
  }
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

// ---------------------------------------------------------------------------------------------------------

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(path) {
  // Layout: u64 little-endian header length N, N bytes of JSON, then the data section.
  DRLLM_CHECK(file_.size() >= 8, path, ": truncated safetensors file (", file_.size(),
              " bytes, shorter than the 8-byte header length)");
  uint64_t header_len = 0;
  std::memcpy(&header_len, file_.data(), 8);
  DRLLM_CHECK(header_len <= kMaxHeaderBytes, path, ": header length ", header_len, " exceeds the ",
              kMaxHeaderBytes, "-byte limit (not a safetensors file?)");
  DRLLM_CHECK(header_len <= file_.size() - 8, path, ": header length ", header_len,
              " runs past the end of the file (", file_.size(), " bytes): truncated file?");
  data_begin_ = file_.data() + 8 + header_len;
  const uint64_t data_size = file_.size() - 8 - header_len;

  json header;
  try {
    header = json::parse(file_.data() + 8, file_.data() + 8 + header_len);
  } catch (const json::exception& e) {
    throw Error(cat(path, ": header is not valid JSON: ", e.what()));
  }
  DRLLM_CHECK(header.is_object(), path, ": header is not a JSON object");

  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (it->is_object())
        for (auto m = it->begin(); m != it->end(); ++m)
          if (m->is_string()) metadata_[m.key()] = m->get<std::string>();
      continue;
    }
    TensorInfo info = parse_entry(it.key(), it.value(), path);
    DRLLM_CHECK(info.end <= data_size, path, ": tensor '", info.name, "' data_offsets [", info.begin, ", ",
                info.end, ") run past the data section (", data_size, " bytes): truncated file?");
    tensors_.push_back(std::move(info));
  }
  std::sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < tensors_.size(); ++i) {
    const TensorInfo& prev = tensors_[i - 1];
    const TensorInfo& cur = tensors_[i];
    // Empty tensors occupy no bytes and cannot overlap anything.
    if (prev.end > cur.begin && cur.end > cur.begin && prev.end > prev.begin)
      throw Error(cat(path, ": tensors '", prev.name, "' [", prev.begin, ", ", prev.end, ") and '", cur.name,
                      "' [", cur.begin, ", ", cur.end, ") overlap"));
  }
  // The tensors must cover the data section exactly, as the safetensors format (and its reference reader) says:
  // a gap, or bytes after the last tensor, mean the offsets or the header length are wrong (a header length one
  // short reads every tensor one byte off and leaves one byte over at the end).
  uint64_t covered = 0;
  for (const TensorInfo& t : tensors_) {
    DRLLM_CHECK(t.begin == covered || (t.begin == t.end && t.begin <= covered), path, ": tensor '", t.name,
                "' starts at byte ", t.begin, " of the data section, but the tensors before it end at ", covered,
                " (a gap: wrong data_offsets or header length)");
    covered = std::max(covered, t.end);
  }
  DRLLM_CHECK(covered == data_size, path, ": the tensors cover ", covered, " bytes but the data section has ",
              data_size, " (bytes after the last tensor: a wrong header length or a damaged file)");
  for (size_t i = 0; i < tensors_.size(); ++i) by_name_[tensors_[i].name] = i;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

// ---------------------------------------------------------------------------------------------------------

SafetensorsCheckpoint::SafetensorsCheckpoint(const std::string& model_dir) : dir_(model_dir) {
  namespace fs = std::filesystem;
  fs::path dir(model_dir);
  fs::path index_path = dir / "model.safetensors.index.json";
  fs::path single_path = dir / "model.safetensors";

  if (fs::exists(index_path)) {
    check_input_file(index_path.string(), "safetensors index", 256 * kMiB);
    std::ifstream in(index_path);
    DRLLM_CHECK(in, index_path.string(), ": cannot open");
    json index;
    try {
      index = json::parse(in);
    } catch (const json::exception& e) {
      throw Error(cat(index_path.string(), ": not valid JSON: ", e.what()));
    }
    DRLLM_CHECK(index.contains("weight_map") && index["weight_map"].is_object(), index_path.string(),
                ": missing object 'weight_map'");
    std::map<std::string, size_t> file_slot;
    for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
      DRLLM_CHECK(it->is_string(), index_path.string(), ": weight_map entry '", it.key(), "' is not a file name");
      std::string shard = it->get<std::string>();
      DRLLM_CHECK(shard.find('/') == std::string::npos && shard.find("..") == std::string::npos,
                  index_path.string(), ": shard name '", shard, "' must be a plain file name");
      if (!file_slot.count(shard)) {
        file_slot[shard] = files_.size();
        files_.push_back(std::make_unique<SafetensorsFile>((dir / shard).string()));
      }
      const SafetensorsFile* file = files_[file_slot[shard]].get();
      const TensorInfo* info = file->find(it.key());
      DRLLM_CHECK(info != nullptr, index_path.string(), ": tensor '", it.key(), "' is mapped to ", shard,
                  " but that shard does not hold it");
      entries_[it.key()] = Entry{file, info};
    }
  } else {
    DRLLM_CHECK(fs::exists(single_path), model_dir,
                ": no model.safetensors or model.safetensors.index.json in this folder");
    files_.push_back(std::make_unique<SafetensorsFile>(single_path.string()));
    for (const TensorInfo& info : files_[0]->tensors()) entries_[info.name] = Entry{files_[0].get(), &info};
  }
}

SafetensorsCheckpoint::Entry SafetensorsCheckpoint::get(const std::string& name) const {
  auto it = entries_.find(name);
  DRLLM_CHECK(it != entries_.end(), dir_, ": missing tensor '", name, "'");
  return it->second;
}

}  // namespace drllm::formats
