#include "eval/static_baselines.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "common/error.h"

namespace drllm::eval {
namespace {

void check_cut(int64_t num_layers, int cut) {
  DRLLM_CHECK(cut > 0 && cut < num_layers, "a fixed cut removes 1 to ", num_layers - 1, " of ", num_layers,
              " layers, not ", cut);
}

model::LayerPlan without(int64_t num_layers, const std::vector<int64_t>& removed) {
  std::vector<uint8_t> counts(static_cast<size_t>(num_layers), 1);
  for (int64_t layer : removed) counts[static_cast<size_t>(layer)] = 0;
  return model::LayerPlan(std::move(counts));
}

}  // namespace

model::LayerPlan most_skipped_cut(const std::vector<int64_t>& skips_per_layer, int cut) {
  const auto n = static_cast<int64_t>(skips_per_layer.size());
  check_cut(n, cut);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const int64_t sa = skips_per_layer[static_cast<size_t>(a)], sb = skips_per_layer[static_cast<size_t>(b)];
    return sa != sb ? sa > sb : a > b;
  });
  order.resize(static_cast<size_t>(cut));
  return without(n, order);
}

model::LayerPlan random_cut(int64_t num_layers, int cut, uint64_t seed) {
  check_cut(num_layers, cut);
  std::mt19937_64 generator(seed * 1000003ULL + static_cast<uint64_t>(cut));
  std::vector<int64_t> layers(static_cast<size_t>(num_layers));
  std::iota(layers.begin(), layers.end(), 0);
  for (int64_t i = num_layers - 1; i > 0; --i)
    std::swap(layers[static_cast<size_t>(i)], layers[generator() % static_cast<uint64_t>(i + 1)]);
  layers.resize(static_cast<size_t>(cut));
  return without(num_layers, layers);
}

}  // namespace drllm::eval
