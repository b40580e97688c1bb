#include "formats/gguf.h"

#include <cstring>

#include "common/error.h"

namespace drllm::formats {
namespace {

constexpr uint64_t kMaxStringBytes = 1ull << 30;
constexpr uint64_t kMaxDims = 4;

enum ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7, STRING = 8, ARRAY = 9,
  UINT64 = 10, INT64 = 11, FLOAT64 = 12
};

const char* value_type_name(uint32_t t) {
  static const char* names[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
                                "bool",  "string", "array", "uint64", "int64", "float64"};
  return t < 13 ? names[t] : "unknown";
}

// A bounds-checked cursor over the mapped bytes.
class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size, const std::string& path) : data_(data), size_(size), path_(path) {}

  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const char* what) {
    uint64_t n = read<uint64_t>(what);
    DRLLM_CHECK(n <= kMaxStringBytes, path_, ": ", what, " claims a string of ", n, " bytes");
    need(n, what);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

  void need(uint64_t n, const char* what) const {
    DRLLM_CHECK(n <= size_ - pos_, path_, ": truncated GGUF file: ", what, " needs ", n, " bytes at offset ", pos_,
                " but the file has ", size_, " bytes");
  }
  uint64_t position() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& path_;
};

GgufValue read_value(Cursor& c, uint32_t type, const std::string& key, const std::string& path, int depth) {
  GgufValue v;
  v.type = type;
  const char* what = key.c_str();
  switch (type) {
    case UINT8: v.value = uint64_t{c.read<uint8_t>(what)}; break;
    case INT8: v.value = int64_t{c.read<int8_t>(what)}; break;
    case UINT16: v.value = uint64_t{c.read<uint16_t>(what)}; break;
    case INT16: v.value = int64_t{c.read<int16_t>(what)}; break;
    case UINT32: v.value = uint64_t{c.read<uint32_t>(what)}; break;
    case INT32: v.value = int64_t{c.read<int32_t>(what)}; break;
    case FLOAT32: v.value = double{c.read<float>(what)}; break;
    case BOOL: {
      uint8_t b = c.read<uint8_t>(what);
      DRLLM_CHECK(b <= 1, path, ": metadata '", key, "': bool value ", int(b));
      v.value = b == 1;
      break;
    }
    case STRING: v.value = c.read_string(what); break;
    case UINT64: v.value = c.read<uint64_t>(what); break;
    case INT64: v.value = c.read<int64_t>(what); break;
    case FLOAT64: v.value = c.read<double>(what); break;
    case ARRAY: {
      DRLLM_CHECK(depth == 0, path, ": metadata '", key, "': nested arrays are not supported");
      uint32_t element = c.read<uint32_t>(what);
      uint64_t n = c.read<uint64_t>(what);
      // Every element takes at least one byte: a count beyond the bytes left is a lie.
      DRLLM_CHECK(n <= c.remaining(), path, ": metadata '", key, "': array of ", n,
                  " elements is longer than the rest of the file");
      GgufArray items;
      items.reserve(n);
      for (uint64_t i = 0; i < n; ++i) items.push_back(read_value(c, element, key, path, depth + 1));
      v.value = std::move(items);
      break;
    }
    default:
      throw Error(cat(path, ": metadata '", key, "' has unknown value type ", type));
  }
  return v;
}

template <typename T>
const T* as(const GgufValue& v) {
  return std::get_if<T>(&v.value);
}

}  // namespace

std::string to_string(GgmlType type) {
  switch (type) {
    case GgmlType::F32: return "F32";
    case GgmlType::F16: return "F16";
    case GgmlType::Q4_0: return "Q4_0";
    case GgmlType::Q4_1: return "Q4_1";
    case GgmlType::Q5_0: return "Q5_0";
    case GgmlType::Q5_1: return "Q5_1";
    case GgmlType::Q8_0: return "Q8_0";
    case GgmlType::Q4_K: return "Q4_K";
    case GgmlType::Q5_K: return "Q5_K";
    case GgmlType::Q6_K: return "Q6_K";
    case GgmlType::BF16: return "BF16";
  }
  return "?";
}

size_t ggml_block_elements(GgmlType t) {
  switch (t) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: return 1;
    case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K: return 256;
    default: return 32;
  }
}

size_t ggml_block_bytes(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 4;
    case GgmlType::F16: case GgmlType::BF16: return 2;
    case GgmlType::Q4_0: return 18;
    case GgmlType::Q4_1: return 20;
    case GgmlType::Q5_0: return 22;
    case GgmlType::Q5_1: return 24;
    case GgmlType::Q8_0: return 34;
    case GgmlType::Q4_K: return 144;
    case GgmlType::Q5_K: return 176;
    case GgmlType::Q6_K: return 210;
  }
  return 0;
}

bool is_gguf_path(const std::string& path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0;
}

int64_t GgufTensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

GgufFile::GgufFile(const std::string& path) : file_(path) {
  Cursor c(file_.data(), file_.size(), path);
  uint32_t magic = c.read<uint32_t>("magic");
  DRLLM_CHECK(magic == 0x46554747, path, ": not a GGUF file (bad magic)");
  version_ = c.read<uint32_t>("version");
  DRLLM_CHECK(version_ == 2 || version_ == 3, path, ": GGUF version ", version_, " is not supported (2 or 3)");
  uint64_t tensor_count = c.read<uint64_t>("tensor count");
  uint64_t kv_count = c.read<uint64_t>("metadata count");
  // Each tensor info and each key-value pair takes well over 8 bytes.
  DRLLM_CHECK(tensor_count <= c.remaining() / 8, path, ": tensor count ", tensor_count,
              " is impossible for a file of ", file_.size(), " bytes");
  DRLLM_CHECK(kv_count <= c.remaining() / 8, path, ": metadata count ", kv_count, " is impossible for a file of ",
              file_.size(), " bytes");

  for (uint64_t i = 0; i < kv_count; ++i) {
    std::string key = c.read_string("metadata key");
    uint32_t type = c.read<uint32_t>("metadata type");
    metadata_[key] = read_value(c, type, key, path, 0);
  }

  uint64_t alignment = 32;
  if (auto a = find_uint("general.alignment")) alignment = *a;
  DRLLM_CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0, path, ": general.alignment ", alignment,
              " is not a power of two");

  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo t;
    t.name = c.read_string("tensor name");
    uint32_t dims = c.read<uint32_t>("tensor dimensions");
    DRLLM_CHECK(dims >= 1 && dims <= kMaxDims, path, ": tensor '", t.name, "' has ", dims, " dimensions");
    uint64_t numel = 1;
    for (uint32_t d = 0; d < dims; ++d) {
      uint64_t n = c.read<uint64_t>("tensor shape");
      DRLLM_CHECK(n > 0 && n < (1ull << 40) && numel <= (1ull << 50) / n, path, ": tensor '", t.name,
                  "' has an impossible dimension ", n);
      numel *= n;
      t.shape.push_back(static_cast<int64_t>(n));
    }
    uint32_t type = c.read<uint32_t>("tensor type");
    t.type = static_cast<GgmlType>(type);
    DRLLM_CHECK(ggml_block_bytes(t.type) != 0, path, ": tensor '", t.name, "' has quantization type ", type,
                ", which drllm does not read (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, "
                "Q6_K)");
    DRLLM_CHECK(t.shape[0] % static_cast<int64_t>(ggml_block_elements(t.type)) == 0, path, ": tensor '", t.name,
                "' rows of ", t.shape[0], " elements do not fill whole ", to_string(t.type), " blocks");
    t.bytes = numel / ggml_block_elements(t.type) * ggml_block_bytes(t.type);
    t.offset = c.read<uint64_t>("tensor offset");
    DRLLM_CHECK(t.offset % alignment == 0, path, ": tensor '", t.name, "' offset ", t.offset,
                " is not aligned to ", alignment);
    DRLLM_CHECK(!by_name_.count(t.name), path, ": tensor '", t.name, "' appears twice");
    by_name_[t.name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }

  uint64_t data_start = (c.position() + alignment - 1) / alignment * alignment;
  DRLLM_CHECK(data_start <= file_.size(), path, ": truncated GGUF file: the data section starts past the end");
  data_ = file_.data() + data_start;
  const uint64_t data_size = file_.size() - data_start;
  // The tensors lie one after the other in the order of their infos, each at the next aligned offset, as ggml
  // writes them and as its reader requires: so no two overlap, and a tensor whose type (so its size) was changed
  // is found by where the next one starts.
  uint64_t expected = 0;
  for (const GgufTensorInfo& t : tensors_) {
    DRLLM_CHECK(t.offset <= data_size && t.bytes <= data_size - t.offset, path, ": tensor '", t.name,
                "' at offset ", t.offset, " with ", t.bytes, " bytes runs past the end of the file (data section of ",
                data_size, " bytes): truncated file?");
    DRLLM_CHECK(t.offset == expected, path, ": tensor '", t.name, "' starts at offset ", t.offset, " of the data ",
                "section, but the tensors before it end at ", expected, ": overlapping tensors, or a type or shape ",
                "that does not match the data");
    expected = (t.offset + t.bytes + alignment - 1) / alignment * alignment;
  }
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

std::string GgufFile::get_string(const std::string& key) const {
  auto it = metadata_.find(key);
  DRLLM_CHECK(it != metadata_.end(), path(), ": missing metadata '", key, "'");
  const std::string* s = as<std::string>(it->second);
  DRLLM_CHECK(s, path(), ": metadata '", key, "' should be a string but is ", value_type_name(it->second.type));
  return *s;
}

std::optional<uint64_t> GgufFile::find_uint(const std::string& key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) return std::nullopt;
  if (const uint64_t* u = as<uint64_t>(it->second)) return *u;
  if (const int64_t* i = as<int64_t>(it->second); i && *i >= 0) return static_cast<uint64_t>(*i);
  throw Error(cat(path(), ": metadata '", key, "' should be an unsigned integer but is ",
                  value_type_name(it->second.type)));
}

uint64_t GgufFile::get_uint(const std::string& key) const {
  auto v = find_uint(key);
  DRLLM_CHECK(v.has_value(), path(), ": missing metadata '", key, "'");
  return *v;
}

std::optional<double> GgufFile::find_float(const std::string& key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) return std::nullopt;
  if (const double* d = as<double>(it->second)) return *d;
  throw Error(cat(path(), ": metadata '", key, "' should be a float but is ", value_type_name(it->second.type)));
}

double GgufFile::get_float(const std::string& key) const {
  auto v = find_float(key);
  DRLLM_CHECK(v.has_value(), path(), ": missing metadata '", key, "'");
  return *v;
}

bool GgufFile::get_bool(const std::string& key) const {
  auto it = metadata_.find(key);
  DRLLM_CHECK(it != metadata_.end(), path(), ": missing metadata '", key, "'");
  const bool* b = as<bool>(it->second);
  DRLLM_CHECK(b, path(), ": metadata '", key, "' should be a bool but is ", value_type_name(it->second.type));
  return *b;
}

const GgufArray& GgufFile::get_array(const std::string& key) const {
  auto it = metadata_.find(key);
  DRLLM_CHECK(it != metadata_.end(), path(), ": missing metadata '", key, "'");
  const GgufArray* a = as<GgufArray>(it->second);
  DRLLM_CHECK(a, path(), ": metadata '", key, "' should be an array but is ", value_type_name(it->second.type));
  return *a;
}

}  // namespace drllm::formats
