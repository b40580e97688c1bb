#include "train/trainer.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "checkpoints/checkpoint_store.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/json_file.h"
#include "dist/stop_signal.h"
#include "model/safetensors_writer.h"
#include "train/focal_loss.h"
#include "train/metrics.h"

namespace drllm::train {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string TrainOptions::config_json() const {
  return json{{"epochs", epochs},       {"batch", batch},         {"lr", adamw.lr},
              {"beta1", adamw.beta1},   {"beta2", adamw.beta2},   {"eps", adamw.eps},
              {"weight_decay", adamw.weight_decay}, {"warmup", warmup}, {"gamma", gamma},
              {"beta", beta},           {"seed", seed}}
      .dump();
}

namespace {

// The examples of epoch `epoch` in training order: Fisher-Yates with a generator seeded by (seed, epoch).
std::vector<int64_t> epoch_order(uint64_t seed, int64_t epoch, int64_t n) {
  std::mt19937_64 gen(seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch) + 1);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = static_cast<int64_t>(gen() % static_cast<uint64_t>(i + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

struct State {
  routing::RouterBank bank;
  std::unique_ptr<AdamW> optimizer;
  int64_t step = 0;
};

void save_checkpoint(checkpoints::CheckpointStore& store, const State& s, const TrainOptions& o,
                     const TrainIdentity& id, int world) {
  store.save(s.step, [&](const std::string& dir) {
    s.bank.save(dir + "/routers.safetensors", id.model_fingerprint);
    std::vector<std::pair<std::string, at::Tensor>> moments;
    for (size_t i = 0; i < s.optimizer->exp_avg.size(); ++i) {
      moments.emplace_back("exp_avg." + std::to_string(i), s.optimizer->exp_avg[i].to(at::kCPU).contiguous());
      moments.emplace_back("exp_avg_sq." + std::to_string(i), s.optimizer->exp_avg_sq[i].to(at::kCPU).contiguous());
    }
    model::save_safetensors(dir + "/optimizer.safetensors", moments);
    json state = {{"step", s.step},
                  {"optimizer_steps", s.optimizer->steps},
                  {"config", o.config_json()},
                  {"model_fingerprint", id.model_fingerprint},
                  {"labels_hash", id.labels_hash},
                  {"world_size", world},
                  {"sampler", "permutation seeded by (seed, epoch); the step fixes the cursor"}};
    write_file_atomically(dir + "/state.json", [&](std::ostream& out) { out << state.dump(2); });
    return std::vector<std::string>{"routers.safetensors", "optimizer.safetensors", "state.json"};
  });
}

bool try_resume(const std::string& run_dir, State& s, const TrainOptions& o, const TrainIdentity& id,
                const at::Device device, int64_t L, int64_t d, bool verbose) {
  checkpoints::CheckpointStore store(run_dir, o.keep_checkpoints);
  auto found = store.newest_valid([&](const std::string& warning) {
    if (verbose) std::cerr << "warning: " << warning << "\n";
  });
  if (!found) return false;
  json state = read_json_file(found->dir + "/state.json");
  DRLLM_CHECK(state["model_fingerprint"] == id.model_fingerprint, found->dir,
              " is a checkpoint of another model (fingerprint ", state["model_fingerprint"].get<std::string>().substr(0, 16),
              "…, the labels' is ", id.model_fingerprint.substr(0, 16), "…); use another --out");
  DRLLM_CHECK(state["labels_hash"] == id.labels_hash, found->dir,
              " was trained on another label set; use another --out");
  DRLLM_CHECK(state["config"] == o.config_json(), found->dir, " was trained with other settings (",
              state["config"].get<std::string>(), " vs ", o.config_json(), "); use the same options or another --out");
  s.bank = routing::RouterBank::load(found->dir + "/routers.safetensors", L, d).to(device);
  auto moments = model::load_safetensors(found->dir + "/optimizer.safetensors");
  s.optimizer = std::make_unique<AdamW>(s.bank.parameters(), o.adamw);
  for (size_t i = 0; i < s.optimizer->exp_avg.size(); ++i) {
    s.optimizer->exp_avg[i] = moments.at("exp_avg." + std::to_string(i)).to(device);
    s.optimizer->exp_avg_sq[i] = moments.at("exp_avg_sq." + std::to_string(i)).to(device);
  }
  s.optimizer->steps = state["optimizer_steps"].get<int64_t>();
  s.step = state["step"].get<int64_t>();
  if (verbose) std::cerr << "resuming from " << found->dir << " (step " << s.step << ")\n";
  return true;
}

// Keeps the metrics of epochs before `epoch` (a resumed run rewrites the later ones).
std::vector<std::string> metrics_before(const std::string& path, int64_t epoch) {
  std::vector<std::string> kept;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    try {
      if (json::parse(line).value("epoch", int64_t{1} << 40) < epoch) kept.push_back(line);
    } catch (const json::exception&) {
    }
  }
  return kept;
}

}  // namespace

TrainResult train_routers(const dist::Runtime& runtime, dist::Communicator& comm, const RouterData& train_set,
                          const RouterData& held_out, const TrainOptions& o, const TrainIdentity& id,
                          const std::string& run_dir) {
  const at::Device device(o.device);
  const int64_t L = train_set.labels.size(1), d = train_set.inputs.size(3);
  const int64_t n = train_set.size();
  DRLLM_CHECK(n > 0, "no training examples");
  DRLLM_CHECK(o.batch > 0 && o.micro_batch > 0 && o.epochs > 0, "--batch, --micro-batch and --epochs must be positive");
  const int64_t steps_per_epoch = (n + o.batch - 1) / o.batch;
  const int64_t total_steps = o.epochs * steps_per_epoch;
  const int64_t last_step = o.max_steps > 0 ? std::min(o.max_steps, total_steps) : total_steps;
  const int world = runtime.size(), rank = runtime.rank();
  const bool root = runtime.is_root();
  at::Tensor alpha = effective_number_weights(train_set.label_counts(), o.beta).to(device);

  // 1. Resume, or start from rank 0's initial weights.
  fs::create_directories(run_dir);
  State s;
  if (!try_resume(run_dir, s, o, id, device, L, d, root)) {
    s.bank = routing::RouterBank::init(L, d, o.seed, device);
    for (at::Tensor& p : s.bank.parameters()) comm.broadcast(p, 0);
    s.optimizer = std::make_unique<AdamW>(s.bank.parameters(), o.adamw);
  }
  for (at::Tensor& p : s.bank.parameters()) p.requires_grad_(true);
  checkpoints::CheckpointStore store(run_dir, o.keep_checkpoints);
  const std::string metrics_path = run_dir + "/metrics.jsonl";
  std::vector<std::string> metric_lines = metrics_before(metrics_path, s.step / steps_per_epoch);
  if (root && s.step == 0)
    std::cerr << "training " << L << " routers on " << n << " examples (" << held_out.size() << " held out), "
              << steps_per_epoch << " steps/epoch x " << o.epochs << " epochs, global batch " << o.batch << " on "
              << world << (world == 1 ? " rank" : " ranks") << " (" << comm.name() << "), class weights ["
              << alpha[0].item<double>() << ", "
              << alpha[1].item<double>() << ", " << alpha[2].item<double>() << "]\n";

  // 2. Steps.
  TrainResult result;
  auto t0 = Clock::now();
  int64_t saved_at = s.step;
  std::vector<int64_t> order;
  int64_t order_epoch = -1;
  double epoch_loss = 0;
  while (s.step < last_step) {
    const int64_t epoch = s.step / steps_per_epoch, within = s.step % steps_per_epoch;
    if (epoch != order_epoch) {
      order = epoch_order(o.seed, epoch, n);
      order_epoch = epoch;
    }
    const int64_t begin = within * o.batch, end = std::min(n, begin + o.batch);
    const double global = static_cast<double>(end - begin);
    std::vector<int64_t> mine;
    for (int64_t i = begin + rank; i < end; i += world) mine.push_back(order[static_cast<size_t>(i)]);
    double local_loss = 0;
    for (size_t m = 0; m < mine.size(); m += static_cast<size_t>(o.micro_batch)) {
      std::vector<int64_t> rows(mine.begin() + static_cast<std::ptrdiff_t>(m),
                                mine.begin() + static_cast<std::ptrdiff_t>(std::min(mine.size(), m + o.micro_batch)));
      at::Tensor index = at::tensor(rows, at::kLong);
      at::Tensor x = train_set.inputs.index_select(0, index).to(device).to(at::kFloat);
      at::Tensor w = train_set.windows.index_select(0, index).to(device);
      at::Tensor y = train_set.labels.index_select(0, index).to(device);
      at::Tensor loss = focal_loss_per_example(s.bank.forward(x, w), y, alpha, o.gamma).sum() / global;
      loss.backward();
      local_loss += loss.item<double>();
    }
    // One collective: every gradient and the loss, summed over ranks.
    std::vector<at::Tensor> params = s.bank.parameters(), flat_parts;
    for (at::Tensor& p : params)
      flat_parts.push_back(p.grad().defined() ? p.grad().reshape(-1) : at::zeros({p.numel()}, p.options()));
    flat_parts.push_back(at::full({1}, local_loss, params[0].options()));
    // A stop signal on any rank travels in the same collective, so that all ranks stop after this step.
    flat_parts.push_back(at::full({1}, dist::stop_requested() ? 1.0 : 0.0, params[0].options()));
    at::Tensor flat = at::cat(flat_parts).contiguous();
    comm.allreduce_sum(flat);
    std::vector<at::Tensor> grads;
    int64_t offset = 0;
    for (at::Tensor& p : params) {
      grads.push_back(flat.slice(0, offset, offset + p.numel()).view(p.sizes()));
      offset += p.numel();
    }
    const double step_loss = flat[offset].item<double>();
    const bool stop = flat[offset + 1].item<double>() > 0;
    if (s.step == 0 && root && !o.dump_first_gradients.empty()) {
      std::vector<std::pair<std::string, at::Tensor>> named;
      const char* names[] = {"w1", "b1", "w2", "b2"};
      for (size_t i = 0; i < grads.size(); ++i) {
        named.emplace_back(std::string("grad.") + names[i], grads[i].to(at::kCPU).contiguous());
        named.emplace_back(std::string("init.") + names[i], params[i].detach().to(at::kCPU).contiguous());
      }
      named.emplace_back("loss", at::full({1}, step_loss, at::kDouble));
      named.emplace_back("alpha", alpha.to(at::kCPU).contiguous());
      named.emplace_back("batch", at::tensor(std::vector<int64_t>(order.begin() + begin, order.begin() + end), at::kLong));
      model::save_safetensors(o.dump_first_gradients, named);
    }
    s.optimizer->step(params, grads, scheduled_lr(o.adamw.lr, s.step, total_steps, o.warmup));
    for (at::Tensor& p : params) p.mutable_grad() = at::Tensor();
    ++s.step;
    ++result.steps;
    result.samples_this_run += static_cast<int64_t>(global);
    epoch_loss += step_loss;

    // Epoch end: metrics on the held-out examples (rank 0; every rank has the same routers).
    if (s.step % steps_per_epoch == 0 && root) {
      json line = {{"epoch", epoch}, {"step", s.step}, {"train_loss", epoch_loss / steps_per_epoch}};
      if (held_out.size() > 0) line.update(evaluate_routers(s.bank, held_out, alpha, o.gamma, device));
      metric_lines.push_back(line.dump());
      write_file_atomically(metrics_path, [&](std::ostream& out) {
        for (const std::string& l : metric_lines) out << l << "\n";
      });
      std::cerr << "epoch " << epoch + 1 << "/" << o.epochs << "  step " << s.step << "  train loss " << std::fixed
                << std::setprecision(4) << epoch_loss / steps_per_epoch;
      if (line.contains("macro_f1"))
        std::cerr << "  held-out loss " << line["loss"].get<double>() << "  macro-F1 " << line["macro_f1"].get<double>()
                  << "  accuracy " << line["accuracy"].get<double>() << "  predicted layers saved "
                  << line["predicted_layers_saved"].get<double>();
      std::cerr << std::defaultfloat << "\n";
    }
    if (s.step % steps_per_epoch == 0) epoch_loss = 0;

    // Checkpoints: every N steps, and when any rank was asked to stop.
    if ((s.step % o.checkpoint_every == 0 || stop || s.step == last_step) && s.step != saved_at) {
      if (root) save_checkpoint(store, s, o, id, world);
      comm.barrier();
      saved_at = s.step;
    }
    if (stop) {
      result.stopped = true;
      if (root) std::cerr << "stop signal: checkpoint at step " << s.step << " written; rerun to resume\n";
      break;
    }
  }
  if (s.step == last_step && s.step != saved_at) {
    if (root) save_checkpoint(store, s, o, id, world);
    comm.barrier();
  }
  result.finished = s.step >= last_step;
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return result;
}

routing::RouterBank load_run_routers(const std::string& run_dir, std::string* fingerprint) {
  checkpoints::CheckpointStore store(run_dir, 1);
  auto found = store.newest_valid([](const std::string& warning) { std::cerr << "warning: " << warning << "\n"; });
  DRLLM_CHECK(found, run_dir, ": no valid checkpoint (train first)");
  json state = read_json_file(found->dir + "/state.json");
  if (fingerprint) *fingerprint = state["model_fingerprint"].get<std::string>();
  auto routers = model::load_safetensors(found->dir + "/routers.safetensors");
  const at::Tensor& w1 = routers.at("model.routers.0.linear1.weight");
  int64_t L = 0;
  while (routers.count("model.routers." + std::to_string(L) + ".linear1.weight")) ++L;
  return routing::RouterBank::from_named(routers, L, w1.size(1));
}

}  // namespace drllm::train
