// bench_routed [--prompts 32] [--tokens 128] [--routers R] [--model M]: greedy generation of T tokens (no eos stop)
// for N ARC-Challenge test prompts in Dr.LLM's chat prompt, unrouted and then routed, in the same run: wall time,
// tokens/s, layer visits per token, and the routers' share of the routed time (the paper: under 1 %).
// Without --routers, routers of random weights (Xavier-uniform, seed 0) stand in: their time is the same.
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "bench/arc_workload.h"
#include "model/backbone.h"
#include "model/generate.h"
#include "routing/routed_generation.h"

using namespace drllm;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string model_path = std::string("smollm2-135m-instruct");
  std::string data_path = std::string(DRLLM_ASSETS_DIR) + "/data/arc_challenge_test.jsonl";
  std::string routers_path;
  size_t prompts = 32;
  int64_t tokens = 128;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--prompts") prompts = std::stoul(value);
    else if (flag == "--tokens") tokens = std::stoll(value);
    else if (flag == "--routers") routers_path = value;
    else if (flag == "--model") model_path = value;
    else {
      std::cerr << "usage: bench_routed [--prompts N] [--tokens T] [--routers R] [--model M]\n";
      return 2;
    }
  }
  bench::ArcWorkload work(model_path, data_path, prompts);
  model::Backbone& backbone = work.backbone;
  std::vector<std::vector<TokenId>> inputs;
  for (const search::SearchExample& ex : work.examples) inputs.push_back(ex.prompt_ids);
  const model::ModelConfig& c = backbone.config();
  routing::RouterBank routers = routers_path.empty()
                                  ? routing::RouterBank::init(c.num_layers, c.hidden_size, 0)
                                  : routing::load_routers_for(routers_path, backbone,
                                                            work.files.fingerprint());
  model::GenerationOptions g;
  g.max_new_tokens = tokens;

  int64_t visits_unrouted = 0, visits_routed = 0, n_unrouted = 0, n_routed = 0;
  auto t0 = Clock::now();
  for (const auto& ids : inputs) {
    model::Generation r = model::generate_greedy(backbone, ids, model::LayerPlan::all_execute(c.num_layers), g);
    visits_unrouted += r.layer_visits;
    n_unrouted += static_cast<int64_t>(r.tokens.size());
  }
  const double unrouted_s = std::chrono::duration<double>(Clock::now() - t0).count();
  double router_s = 0;
  auto t1 = Clock::now();
  for (const auto& ids : inputs) {
    routing::RoutedGeneration r = routing::generate_routed(backbone, routers, ids, g);
    visits_routed += r.generation.layer_visits;
    n_routed += static_cast<int64_t>(r.generation.tokens.size());
    router_s += r.router_seconds;
  }
  const double routed_s = std::chrono::duration<double>(Clock::now() - t1).count();
  std::printf("generation of %lld tokens for %zu ARC-Challenge test prompts, default model, %d threads, routers %s\n",
              static_cast<long long>(tokens), inputs.size(), at::get_num_threads(),
              routers_path.empty() ? "random (seed 0)" : routers_path.c_str());
  std::printf("  unrouted: %8.1f s  %6.1f tokens/s  %5.1f layer visits/token\n", unrouted_s, n_unrouted / unrouted_s,
              double(visits_unrouted) / n_unrouted);
  std::printf("  routed  : %8.1f s  %6.1f tokens/s  %5.1f layer visits/token   routed/unrouted time %.3f\n", routed_s,
              n_routed / routed_s, double(visits_routed) / n_routed, routed_s / unrouted_s);
  std::printf("  routers : %8.3f s = %.2f %% of the routed time\n", router_s, 100 * router_s / routed_s);
  return 0;
}
