#include "train/metrics.h"

#include <c10/core/GradMode.h>

#include "common/error.h"
#include "train/focal_loss.h"

namespace drllm::train {

nlohmann::json evaluate_routers(const routing::RouterBank& bank, const RouterData& data, const at::Tensor& alpha,
                                double gamma, const at::Device& device) {
  DRLLM_CHECK(data.size() > 0, "no examples to evaluate the routers on");
  c10::NoGradGuard no_grad;
  // In chunks of a fixed size, so that inputs streamed from the shards stay within their memory bound, and so
  // that the logits (a matmul's rounding can depend on its row count) are the same whichever way they are held.
  std::vector<at::Tensor> parts;
  for (int64_t begin = 0; begin < data.size(); begin += kEvaluationChunk) {
    std::vector<int64_t> rows;
    for (int64_t i = begin; i < std::min(data.size(), begin + kEvaluationChunk); ++i) rows.push_back(i);
    at::Tensor windows = data.windows.slice(0, begin, begin + static_cast<int64_t>(rows.size())).to(device);
    parts.push_back(bank.forward(data.inputs.gather(rows).to(device).to(at::kFloat), windows));
  }
  at::Tensor logits = at::cat(parts);
  at::Tensor labels = data.labels.to(device);
  const double loss = focal_loss_per_example(logits, labels, alpha, gamma).mean().item<double>();
  at::Tensor predicted = logits.argmax(-1);
  const char* names[] = {"skip", "execute", "repeat"};
  nlohmann::json out = {{"loss", loss}, {"accuracy", (predicted == labels).to(at::kDouble).mean().item<double>()}};
  double macro = 0;
  for (int64_t c = 0; c < 3; ++c) {
    const double tp = ((predicted == c) & (labels == c)).sum().item<double>();
    const double predicted_c = (predicted == c).sum().item<double>(), actual_c = (labels == c).sum().item<double>();
    const double precision = predicted_c > 0 ? tp / predicted_c : 0, recall = actual_c > 0 ? tp / actual_c : 0;
    const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    out[std::string(names[c]) + "_recall"] = recall;
    out[std::string(names[c]) + "_precision"] = precision;
    out[std::string(names[c]) + "_f1"] = f1;
    macro += f1;
  }
  out["macro_f1"] = macro / 3;
  const double L = static_cast<double>(labels.size(1));
  out["predicted_layers_saved"] = L - predicted.sum(1).to(at::kDouble).mean().item<double>();
  out["label_layers_saved"] = L - labels.sum(1).to(at::kDouble).mean().item<double>();
  // How often the routers' whole plan is the label's: one wrong layer of L makes a different forward pass.
  out["plan_match"] = (predicted == labels).all(1).to(at::kDouble).mean().item<double>();
  for (int64_t c = 0; c < 3; ++c) out[std::string(names[c]) + "_support"] = (labels == c).sum().item<int64_t>();
  return out;
}

}  // namespace drllm::train
