#include "model/gguf_convert.h"

#include "common/atomic_file.h"
#include "common/error.h"
#include "model/gguf_model.h"
#include "model/safetensors_writer.h"
#include "model/weights.h"

namespace drllm::model {

void write_hf_checkpoint_from_gguf(const formats::GgufFile& gguf, const std::string& folder, const std::string& dtype) {
  ModelConfig config = config_from_gguf(gguf);
  config.dtype = dtype;
  GgufWeightSource source(gguf, config, scalar_type_of(dtype), at::kCPU);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const formats::GgufTensorInfo& info : gguf.tensors()) {
    std::string name = hf_name_of_gguf_tensor(info.name);
    DRLLM_CHECK(!name.empty(), gguf.path(), ": tensor '", info.name, "' has no Hugging Face counterpart");
    std::vector<int64_t> shape(info.shape.rbegin(), info.shape.rend());
    tensors.emplace_back(name, source.get(name, shape));
  }
  save_safetensors(folder + "/model.safetensors", tensors, {{"format", "pt"}});
  std::string json = config.to_hf_json();
  write_file_atomically(folder + "/config.json", [&](std::ostream& out) { out << json << "\n"; });
}

}  // namespace drllm::model
