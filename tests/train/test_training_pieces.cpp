// Pieces of router training against values worked out by hand: the effective-number class weights with the
// paper's label counts (docs/method.md: alpha ~ (0.916, 0.905, 1.179)), the focal loss of one example, and the
// learning-rate schedule's warm-up and cosine ends.
#include <gtest/gtest.h>

#include <cmath>

#include "train/adamw.h"
#include "train/focal_loss.h"

namespace drllm::train {
namespace {

TEST(ClassWeights, ThePapersCountsGiveThePapersWeights) {
  at::Tensor alpha = effective_number_weights({4399, 120956, 1457}, 0.999);
  ASSERT_EQ(alpha.numel(), 3);
  // (1 - b) / (1 - b^n), normalised to sum to 3, by hand.
  const double b = 0.999;
  double w[3] = {(1 - b) / (1 - std::pow(b, 4399)), (1 - b) / (1 - std::pow(b, 120956)),
                 (1 - b) / (1 - std::pow(b, 1457))};
  const double sum = w[0] + w[1] + w[2];
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(alpha[c].item<double>(), 3 * w[c] / sum, 1e-6) << c;
  EXPECT_NEAR(alpha[0].item<double>(), 0.916, 1e-3);
  EXPECT_NEAR(alpha[1].item<double>(), 0.905, 1e-3);
  EXPECT_NEAR(alpha[2].item<double>(), 1.179, 1e-3);
}

TEST(FocalLoss, OneExampleByHand) {
  // logits (0, ln 2, 0): p = (1/4, 1/2, 1/4); label 1, alpha 1, gamma 2: -(1 - 1/2)^2 ln(1/2) = ln(2) / 4.
  at::Tensor logits = at::tensor({0.0, std::log(2.0), 0.0}, at::kFloat).view({1, 1, 3});
  at::Tensor labels = at::tensor({int64_t{1}}, at::kLong).view({1, 1});
  at::Tensor alpha = at::ones({3}, at::kFloat);
  at::Tensor loss = focal_loss_per_example(logits, labels, alpha, 2.0);
  EXPECT_NEAR(loss.sum().item<double>(), std::log(2.0) / 4, 1e-6);
  // gamma 0 is weighted cross-entropy: -ln(1/4) for label 0 with alpha 2 -> 2 ln 4.
  alpha = at::tensor({2.0, 1.0, 1.0}, at::kFloat);
  labels = at::tensor({int64_t{0}}, at::kLong).view({1, 1});
  EXPECT_NEAR(focal_loss_per_example(logits, labels, alpha, 0.0).sum().item<double>(), 2 * std::log(4.0), 1e-5);
}

TEST(Schedule, WarmUpThenCosineToZero) {
  EXPECT_DOUBLE_EQ(scheduled_lr(1e-3, 0, 100, 10), 1e-4);     // step 1 of 10 warm-up steps
  EXPECT_DOUBLE_EQ(scheduled_lr(1e-3, 9, 100, 10), 1e-3);     // the end of the warm-up
  EXPECT_NEAR(scheduled_lr(1e-3, 55, 100, 10), 0.5e-3, 1e-12);  // half way through the decay
  EXPECT_NEAR(scheduled_lr(1e-3, 100, 100, 10), 0.0, 1e-12);
}

}  // namespace
}  // namespace drllm::train
