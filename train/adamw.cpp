#include "train/adamw.h"

#include <c10/core/GradMode.h>

#include <cmath>

namespace drllm::train {

double scheduled_lr(double base, int64_t step, int64_t total, int64_t warmup) {
  if (warmup > 0 && step < warmup) return base * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const int64_t decay = std::max<int64_t>(1, total - warmup);
  const double progress = std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(decay));
  return base * 0.5 * (1 + std::cos(M_PI * progress));
}

AdamW::AdamW(const std::vector<at::Tensor>& params, AdamWOptions options) : options_(options) {
  for (const at::Tensor& p : params) {
    exp_avg.push_back(at::zeros_like(p));
    exp_avg_sq.push_back(at::zeros_like(p));
  }
}

void AdamW::step(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads, double lr) {
  c10::NoGradGuard no_grad;
  ++steps;
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double correction1 = 1 - std::pow(b1, static_cast<double>(steps));
  const double correction2 = 1 - std::pow(b2, static_cast<double>(steps));
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor p = params[i];
    p.mul_(1 - lr * options_.weight_decay);
    exp_avg[i].lerp_(grads[i], 1 - b1);
    exp_avg_sq[i].mul_(b2).addcmul_(grads[i], grads[i], 1 - b2);
    at::Tensor denom = (exp_avg_sq[i].sqrt() / std::sqrt(correction2)).add_(options_.eps);
    p.addcdiv_(exp_avg[i], denom, -lr / correction1);
  }
}

}  // namespace drllm::train
