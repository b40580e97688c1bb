// bench_forward MODEL_DIR [THREADS] [DTYPE]: prefill tokens/s at 64, 256 and 1024 tokens and decode tokens/s for a
// model computing in DTYPE (float32, bfloat16; default float32), plus the FLOP rate of one large matmul (2048^3)
// in that dtype measured in the same process (the machine's practical peak for it).
// Prints one JSON object; bench/run_forward.py runs it beside transformers and prints the ratios.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "model/backbone.h"

using namespace drllm;
using namespace drllm::model;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// One untimed warm-up run, then the best of `reps` (the run least disturbed by the OS).
template <typename F>
double best_time(int reps, F&& f) {
  f();
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

double matmul_flops_per_second(int64_t n, at::ScalarType dtype) {
  at::Tensor a = at::randn({n, n}).to(dtype), b = at::randn({n, n}).to(dtype);
  double t = best_time(3, [&] { at::mm(a, b); });
  return 2.0 * n * n * n / t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_forward MODEL_DIR [THREADS] [DTYPE]\n";
    return 2;
  }
  if (argc > 2) at::set_num_threads(std::stoi(argv[2]));
  const std::string dtype = argc > 3 ? argv[3] : "float32";
  Backbone backbone = Backbone::load(argv[1], {"cpu", dtype});
  const int64_t L = backbone.config().num_layers, V = backbone.config().vocab_size;
  LayerPlan plan = LayerPlan::all_execute(L);

  nlohmann::json out;
  out["threads"] = at::get_num_threads();
  out["dtype"] = dtype;
  out["matmul_flops"] = matmul_flops_per_second(2048, backbone.dtype());
  for (int64_t t : {64, 256, 1024}) {
    at::Tensor ids = at::randint(3, V, {1, t}, at::kLong);
    double s = best_time(t >= 1024 ? 1 : 2, [&] {
      KvCache cache = backbone.new_cache(RepeatKv::Shared, t);
      backbone.prefill(ids, plan, cache);
    });
    out["prefill"][std::to_string(t)] = t / s;
  }
  // Decode: 32 tokens after a 64-token prompt, fed back greedily.
  const int64_t prompt = 64, steps = 32;
  at::Tensor ids = at::randint(3, V, {1, prompt}, at::kLong);
  double s = best_time(2, [&] {
    KvCache cache = backbone.new_cache(RepeatKv::Shared, prompt + steps);
    at::Tensor logits = backbone.prefill(ids, plan, cache);
    for (int64_t i = 0; i < steps; ++i) logits = backbone.decode(logits.argmax(-1).view({1, 1}), plan, cache);
  });
  // Subtract the prefill part, measured alone.
  double prefill_s = best_time(2, [&] {
    KvCache cache = backbone.new_cache(RepeatKv::Shared, prompt);
    backbone.prefill(ids, plan, cache);
  });
  out["decode"] = steps / (s - prefill_s);
  std::cout << out.dump() << std::endl;
  return 0;
}
