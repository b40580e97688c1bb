#include "train/focal_loss.h"

#include <cmath>

namespace drllm::train {

at::Tensor effective_number_weights(const std::array<int64_t, 3>& counts, double beta) {
  std::array<double, 3> w{};
  double sum = 0;
  for (size_t c = 0; c < 3; ++c) {
    const double n = static_cast<double>(std::max<int64_t>(counts[c], 1));
    w[c] = (1 - beta) / (1 - std::pow(beta, n));
    sum += w[c];
  }
  for (double& x : w) x *= 3.0 / sum;
  return at::tensor({w[0], w[1], w[2]}, at::kDouble).to(at::kFloat);
}

at::Tensor focal_loss_per_example(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& alpha,
                                  double gamma) {
  at::Tensor log_p = at::log_softmax(logits.to(at::kFloat), -1).gather(-1, labels.unsqueeze(-1)).squeeze(-1);  // [B, L]
  at::Tensor a = alpha.to(logits.device()).index_select(0, labels.reshape(-1)).view(labels.sizes());
  at::Tensor loss = -a * log_p;
  if (gamma != 0) loss = loss * at::pow(1 - log_p.exp(), gamma);
  return loss.mean(1);
}

}  // namespace drllm::train
