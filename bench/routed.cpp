// bench_routed [--prompts 32] [--tokens 128] [--routers R] [--model M] [--batches 1,8,32]: greedy generation of T
// tokens (no eos stop) for N ARC-Challenge test prompts in Dr.LLM's chat prompt, unrouted and then routed, B
// prompts at once for each B of --batches (model/batch_generation.h), in the same run: tokens/s and the ratio to
// the first batch, layer visits per token, routed over unrouted wall time next to routed over unrouted layer
// visits (whether layers saved become time saved in a mixed batch), and the routers' share of the routed time.
// Without --routers, routers of random weights (Xavier-uniform, seed 0) stand in: their time is the same.
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "bench/arc_workload.h"
#include "model/backbone.h"
#include "model/batch_generation.h"
#include "model/generate.h"
#include "routing/routed_generation.h"

using namespace drllm;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string model_path = std::string("smollm2-135m-instruct");
  std::string data_path = std::string(DRLLM_DATASETS_DIR) + "/arc_challenge_test.jsonl";
  std::string routers_path;
  size_t prompts = 32;
  int64_t tokens = 128;
  std::vector<int64_t> batches = {1, 8, 32};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--prompts") prompts = std::stoul(value);
    else if (flag == "--tokens") tokens = std::stoll(value);
    else if (flag == "--routers") routers_path = value;
    else if (flag == "--model") model_path = value;
    else if (flag == "--batches") batches = bench::parse_list(value);
    else {
      std::cerr << "usage: bench_routed [--prompts N] [--tokens T] [--routers R] [--model M] [--batches 1,8,32]\n";
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
  const model::LayerPlan all = model::LayerPlan::all_execute(c.num_layers);

  std::printf("generation of %lld tokens for %zu ARC-Challenge test prompts, %s, %d threads, routers %s\n",
              static_cast<long long>(tokens), inputs.size(), model_path.c_str(), at::get_num_threads(),
              routers_path.empty() ? "random (seed 0)" : routers_path.c_str());
  std::printf("%-7s%12s%12s%12s%12s%12s%14s%14s%14s%10s\n", "batch", "unrouted", "vs batch 1", "routed", "vs batch 1",
              "visits/tok", "routed/unr.", "visits r/u", "blocks r/u", "routers");
  double first_unrouted = 0, first_routed = 0;
  for (int64_t b : batches) {
    model::BatchOptions batch;
    batch.max_batch = b;
    int64_t visits_unrouted = 0, visits_routed = 0, n_unrouted = 0, n_routed = 0;
    const int64_t blocks_before = backbone.computed_blocks();
    auto t0 = Clock::now();
    std::vector<model::GenerationRequest> requests;
    model::FixedPlan every_layer(all);
    for (const auto& ids : inputs) requests.push_back({ids, &every_layer, g, 0});
    for (const model::Generation& r : model::generate_batched(backbone, requests, batch)) {
      visits_unrouted += r.layer_visits;
      n_unrouted += static_cast<int64_t>(r.tokens.size());
    }
    const double unrouted_s = std::chrono::duration<double>(Clock::now() - t0).count();
    const int64_t blocks_unrouted = backbone.computed_blocks() - blocks_before;
    double router_s = 0;
    auto t1 = Clock::now();
    for (const routing::RoutedGeneration& r : routing::generate_routed_batched(backbone, routers, inputs, g, {}, batch)) {
      visits_routed += r.generation.layer_visits;
      n_routed += static_cast<int64_t>(r.generation.tokens.size());
      router_s += r.router_seconds;
    }
    const double routed_s = std::chrono::duration<double>(Clock::now() - t1).count();
    const int64_t blocks_routed = backbone.computed_blocks() - blocks_before - blocks_unrouted;
    const double unrouted_rate = n_unrouted / unrouted_s, routed_rate = n_routed / routed_s;
    if (first_unrouted == 0) first_unrouted = unrouted_rate, first_routed = routed_rate;
    std::printf("%-7lld%12.1f%12.2f%12.1f%12.2f%12.1f%14.3f%14.3f%14.3f%9.2f%%\n", static_cast<long long>(b),
                unrouted_rate, unrouted_rate / first_unrouted, routed_rate, routed_rate / first_routed,
                double(visits_routed) / n_routed, routed_s / unrouted_s,
                double(visits_routed) / n_routed / (double(visits_unrouted) / n_unrouted),
                double(blocks_routed) / double(blocks_unrouted), 100 * router_s / routed_s);
    std::fflush(stdout);
  }
  std::printf("(tokens/s; routed/unr.: routed over unrouted wall time at that batch, next to their ratios of layer\n"
              " visits and of block computations: one layer pass over all the sequences that run it, which reads the\n"
              " layer's weights once)\n");
  return 0;
}
