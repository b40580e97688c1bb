// drllm_probe: exposes internals to the Python oracle tests as raw fp32 files.
//   drllm_probe dequant FILE.gguf TENSOR OUT.f32     a GGUF tensor as stored, dequantized (torch order)
//   drllm_probe logits MODEL "ID ID ..." OUT.f32 [DEVICE DTYPE]
//                                                     logits of every position, all layers executed
#include <ATen/ATen.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "model/backbone.h"
#include "model/gguf_model.h"

using namespace drllm;
using namespace drllm::model;

static void write_floats(const at::Tensor& t, const std::string& path) {
  at::Tensor c = t.contiguous().to(at::kFloat);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(c.data_ptr<float>()), static_cast<std::streamsize>(c.numel() * 4));
}

int main(int argc, char** argv) try {
  std::string verb = argc > 1 ? argv[1] : "";
  if (verb == "dequant" && argc == 5) {
    formats::GgufFile gguf(argv[2]);
    const formats::GgufTensorInfo* info = gguf.find_tensor(argv[3]);
    if (!info) throw std::runtime_error(std::string("no tensor ") + argv[3]);
    write_floats(GgufWeightSource::dequantized(gguf, *info), argv[4]);
    return 0;
  }
  if (verb == "logits" && (argc == 5 || argc == 7)) {
    LoadOptions options;
    if (argc == 7) options = {argv[5], argv[6]};
    Backbone backbone = Backbone::load(argv[2], options);
    std::vector<int64_t> ids;
    std::istringstream in(argv[3]);
    for (int64_t id; in >> id;) ids.push_back(id);
    KvCache cache = backbone.new_cache(RepeatKv::Shared);
    at::Tensor logits = backbone.prefill(at::tensor(ids, at::kLong).unsqueeze(0).to(backbone.device()),
                                         LayerPlan::all_execute(backbone.config().num_layers), cache, nullptr, true);
    write_floats(logits[0].to(at::kCPU), argv[4]);
    return 0;
  }
  std::cerr << "usage: drllm_probe dequant FILE.gguf TENSOR OUT.f32 | logits MODEL IDS OUT.f32 [DEVICE DTYPE]\n";
  return 2;
} catch (const std::exception& e) {
  std::cerr << "drllm_probe: " << e.what() << "\n";
  return 1;
}
