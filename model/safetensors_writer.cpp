#include "model/safetensors_writer.h"

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"

namespace drllm::model {
namespace {

const char* dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "F32";
    case at::kHalf: return "F16";
    case at::kBFloat16: return "BF16";
    case at::kDouble: return "F64";
    case at::kLong: return "I64";
    case at::kInt: return "I32";
    case at::kByte: return "U8";
    case at::kChar: return "I8";
    default: throw Error(cat("safetensors: dtype ", t, " cannot be written"));
  }
}

}  // namespace

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    uint64_t bytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", dtype_name(t.scalar_type())}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(t);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data section starts 8-byte aligned
  write_file_atomically(path, [&](std::ostream& out) {
    uint64_t n = text.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const at::Tensor& t : contiguous)
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
  });
}

std::optional<at::ScalarType> scalar_type_of(formats::StDType dtype) {
  switch (dtype) {
    case formats::StDType::F32: return at::kFloat;
    case formats::StDType::F64: return at::kDouble;
    case formats::StDType::F16: return at::kHalf;
    case formats::StDType::BF16: return at::kBFloat16;
    case formats::StDType::I64: return at::kLong;
    case formats::StDType::I32: return at::kInt;
    case formats::StDType::U8: return at::kByte;
    default: return std::nullopt;
  }
}

std::map<std::string, at::Tensor> load_safetensors(const std::string& path) {
  formats::SafetensorsFile file(path);
  std::map<std::string, at::Tensor> out;
  for (const formats::TensorInfo& info : file.tensors()) {
    std::optional<at::ScalarType> type = scalar_type_of(info.dtype);
    DRLLM_CHECK(type, path, ": tensor '", info.name, "' has dtype ", to_string(info.dtype), ", not read here");
    out[info.name] = at::from_blob(const_cast<uint8_t*>(file.bytes(info)), info.shape, at::TensorOptions().dtype(*type))
                         .clone();
  }
  return out;
}

}  // namespace drllm::model
