#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "checkpoints/checkpoint_store.h"
#include "common/atomic_file.h"
#include "common/console.h"
#include "common/error.h"
#include "common/json_file.h"
#include "dist/stop_signal.h"
#include "model/safetensors_writer.h"
#include "train/focal_loss.h"
#include "train/metrics.h"
#include "train/training_events.h"
#include "common/tensorboard.h"

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

Trainer::Trainer(const dist::Runtime& runtime, dist::Communicator& comm, const RouterData& train_set,
                 const RouterData& held_out, TrainOptions options, TrainIdentity identity, std::string run_dir)
    : runtime_(runtime),
      comm_(comm),
      train_set_(train_set),
      held_out_(held_out),
      o_(std::move(options)),
      id_(std::move(identity)),
      run_dir_(std::move(run_dir)),
      store_(run_dir_, o_.keep_checkpoints),
      saver_(store_),
      prefetch_(train_set_.inputs),
      device_(o_.device) {
  L_ = train_set_.labels.size(1);
  d_ = train_set_.inputs.dim();
  n_ = train_set_.size();
  DRLLM_CHECK(n_ > 0, "no training examples");
  DRLLM_CHECK(o_.batch > 0 && o_.micro_batch > 0 && o_.epochs > 0,
              "--batch, --micro-batch and --epochs must be positive");
  DRLLM_CHECK(o_.checkpoint_every > 0 && o_.keep_checkpoints > 0, "--checkpoint-every (", o_.checkpoint_every,
              ") and --keep-checkpoints (", o_.keep_checkpoints, ") must be positive");
  DRLLM_CHECK(o_.warmup >= 0 && o_.max_steps >= 0, "--warmup and --max-steps must not be negative");
  DRLLM_CHECK(std::isfinite(o_.adamw.lr) && o_.adamw.lr > 0 && std::isfinite(o_.adamw.weight_decay) &&
                  o_.adamw.weight_decay >= 0 && std::isfinite(o_.gamma) && o_.gamma >= 0 && o_.beta > 0 &&
                  o_.beta < 1,
              "--lr (", o_.adamw.lr, ") must be a positive number, --weight-decay (", o_.adamw.weight_decay,
              ") and --gamma (", o_.gamma, ") non-negative numbers, --class-beta (", o_.beta, ") in (0, 1)");
  steps_per_epoch_ = (n_ + o_.batch - 1) / o_.batch;
  total_steps_ = o_.epochs * steps_per_epoch_;
  last_step_ = o_.max_steps > 0 ? std::min(o_.max_steps, total_steps_) : total_steps_;
  alpha_ = effective_number_weights(train_set_.label_counts(), o_.beta).to(device_);

  // Resume, or start from rank 0's initial weights.
  fs::create_directories(run_dir_);
  if (runtime_.is_root()) store_.remove_unfinished();
  if (!try_resume()) {
    bank_ = routing::RouterBank::init(L_, d_, o_.seed, device_);
    for (at::Tensor& p : bank_.parameters()) comm_.broadcast(p, 0);
    optimizer_ = std::make_unique<AdamW>(bank_.parameters(), o_.adamw);
  }
  for (at::Tensor& p : bank_.parameters()) p.requires_grad_(true);
  saved_at_ = step_;
  metrics_path_ = run_dir_ + "/metrics.jsonl";
  metric_lines_ = metrics_before(metrics_path_, step_ / steps_per_epoch_);
  metric_times_.assign(metric_lines_.size(), wall_time_now());
  if (runtime_.is_root() && step_ == 0)
    log_info() << "training " << L_ << " routers on " << n_ << " examples (" << held_out_.size() << " held out), "
              << steps_per_epoch_ << " steps/epoch x " << o_.epochs << " epochs, global batch " << o_.batch << " on "
              << runtime_.size() << (runtime_.size() == 1 ? " rank" : " ranks") << " (" << comm_.name()
              << "), class weights [" << alpha_[0].item<double>() << ", " << alpha_[1].item<double>() << ", "
              << alpha_[2].item<double>() << "]\n";
}

bool Trainer::try_resume() {
  auto found = store_.newest_valid([&](const std::string& warning) {
    if (runtime_.is_root()) log_warning() << "warning: " << warning << "\n";
  });
  if (!found) return false;
  const std::string where = found->dir + "/state.json";
  json state = read_json_file(where);
  // Typed reads: the manifest's checksums make damage unlikely, but a forged or hand-edited state must still end
  // in a message naming the field, not in a library's type error.
  auto text_of = [&](const char* key) {
    DRLLM_CHECK(state.is_object() && state.contains(key) && state[key].is_string(), where, ": '", key,
                "' must be a string");
    return state[key].get<std::string>();
  };
  auto count_of = [&](const char* key) {
    DRLLM_CHECK(state.contains(key) && state[key].is_number_integer() && state[key].get<int64_t>() >= 0, where, ": '",
                key, "' must be a non-negative integer, found ", state.value(key, json()).dump());
    return state[key].get<int64_t>();
  };
  const std::string fingerprint = text_of("model_fingerprint");
  DRLLM_CHECK(fingerprint == id_.model_fingerprint, found->dir, " is a checkpoint of another model (fingerprint ",
              fingerprint.substr(0, 16), "…, the labels' is ", id_.model_fingerprint.substr(0, 16),
              "…); use another --out");
  DRLLM_CHECK(text_of("labels_hash") == id_.labels_hash, found->dir, " was trained on another label set; use another --out");
  const std::string config = text_of("config");
  DRLLM_CHECK(config == o_.config_json(), found->dir, " was trained with other settings (", config, " vs ",
              o_.config_json(), "); use the same options or another --out");
  const int64_t step = count_of("step"), optimizer_steps = count_of("optimizer_steps");
  DRLLM_CHECK(step == found->step, where, ": says step ", step, ", but it is the checkpoint of step ", found->step);
  DRLLM_CHECK(step <= total_steps_, where, ": step ", step, " is past the end of this run (", total_steps_, " steps)");
  DRLLM_CHECK(optimizer_steps <= step, where, ": ", optimizer_steps, " optimizer steps in ", step, " training steps");
  const json loss_so_far = state.value("epoch_loss_so_far", json(0.0));
  DRLLM_CHECK(loss_so_far.is_number(), where, ": 'epoch_loss_so_far' must be a number");
  const double epoch_loss = loss_so_far.get<double>();
  DRLLM_CHECK(std::isfinite(epoch_loss) && epoch_loss >= 0, where, ": 'epoch_loss_so_far' is ", epoch_loss);
  bank_ = routing::RouterBank::load(found->dir + "/routers.safetensors", L_, d_).to(device_);
  const std::string moments_path = found->dir + "/optimizer.safetensors";
  auto moments = model::load_safetensors(moments_path);
  optimizer_ = std::make_unique<AdamW>(bank_.parameters(), o_.adamw);
  auto moment = [&](const std::string& name, const at::Tensor& like) {
    auto it = moments.find(name);
    DRLLM_CHECK(it != moments.end(), moments_path, ": missing tensor '", name, "'");
    DRLLM_CHECK(it->second.sizes() == like.sizes(), moments_path, ": tensor '", name, "' has shape ", it->second.sizes(),
                ", the routers' parameter has ", like.sizes());
    DRLLM_CHECK(at::isfinite(it->second).all().item<bool>(), moments_path, ": tensor '", name,
                "' holds NaN or infinite values");
    return it->second.to(device_);
  };
  for (size_t i = 0; i < optimizer_->exp_avg.size(); ++i) {
    optimizer_->exp_avg[i] = moment("exp_avg." + std::to_string(i), optimizer_->exp_avg[i]);
    optimizer_->exp_avg_sq[i] = moment("exp_avg_sq." + std::to_string(i), optimizer_->exp_avg_sq[i]);
  }
  optimizer_->steps = optimizer_steps;
  step_ = step;
  // The loss summed so far in the epoch the checkpoint fell in, so that its metrics line is the uninterrupted
  // run's (checkpoints written before this field existed resume that sum from 0).
  epoch_loss_ = epoch_loss;
  if (runtime_.is_root()) log_info() << "resuming from " << found->dir << " (step " << step_ << ")\n";
  return true;
}

void Trainer::checkpoint(bool wait_for_disk) {
  if (runtime_.is_root()) {
    // A copy of everything the checkpoint holds, as of this step: the save runs beside the steps that follow,
    // which update the live tensors in place.
    const routing::RouterBank routers = bank_.cpu_copy();
    std::vector<std::pair<std::string, at::Tensor>> moments;
    for (size_t i = 0; i < optimizer_->exp_avg.size(); ++i) {
      moments.emplace_back("exp_avg." + std::to_string(i), optimizer_->exp_avg[i].to(at::kCPU, false, true).contiguous());
      moments.emplace_back("exp_avg_sq." + std::to_string(i),
                           optimizer_->exp_avg_sq[i].to(at::kCPU, false, true).contiguous());
    }
    const json state = {{"step", step_},
                        {"optimizer_steps", optimizer_->steps},
                        {"epoch_loss_so_far", epoch_loss_},
                        {"config", o_.config_json()},
                        {"model_fingerprint", id_.model_fingerprint},
                        {"labels_hash", id_.labels_hash},
                        {"world_size", runtime_.size()},
                        {"sampler", "permutation seeded by (seed, epoch); the step fixes the cursor"}};
    saver_.start(step_, [routers, moments, state, fingerprint = id_.model_fingerprint](const std::string& dir) {
      routers.save(dir + "/routers.safetensors", fingerprint);
      model::save_safetensors(dir + "/optimizer.safetensors", moments);
      write_file_atomically(dir + "/state.json", [&](std::ostream& out) { out << state.dump(2); });
      return std::vector<std::string>{"routers.safetensors", "optimizer.safetensors", "state.json"};
    });
    if (wait_for_disk) saver_.wait();
  }
  // A job that stops or ends leaves only once its checkpoint is on disk; the others go on while it is written.
  if (wait_for_disk) comm_.barrier();
  saved_at_ = step_;
}

std::vector<int64_t> Trainer::rank_rows(int64_t step) const {
  const int64_t epoch = step / steps_per_epoch_, within = step % steps_per_epoch_;
  const std::vector<int64_t> other_epoch = epoch == order_epoch_ ? std::vector<int64_t>() : epoch_order(o_.seed, epoch, n_);
  const std::vector<int64_t>& order = epoch == order_epoch_ ? order_ : other_epoch;
  const int world = runtime_.size(), rank = runtime_.rank();
  const int64_t begin = within * o_.batch, end = std::min(n_, begin + o_.batch);
  std::vector<int64_t> mine;
  for (int64_t i = begin + rank; i < end; i += world) mine.push_back(order[static_cast<size_t>(i)]);
  return mine;
}

StepOutcome Trainer::train_step() {
  const int64_t epoch = step_ / steps_per_epoch_, within = step_ % steps_per_epoch_;
  if (epoch != order_epoch_) {
    order_ = epoch_order(o_.seed, epoch, n_);
    order_epoch_ = epoch;
  }
  const int64_t begin = within * o_.batch, end = std::min(n_, begin + o_.batch);
  const double global = static_cast<double>(end - begin);
  const std::vector<int64_t> mine = rank_rows(step_);
  // This step's inputs (read ahead during the last step when they stream), then the next step's read ahead.
  const at::Tensor inputs = prefetch_.take(step_, mine);
  if (step_ + 1 < last_step_) prefetch_.ahead(step_ + 1, rank_rows(step_ + 1));
  double local_loss = 0;
  for (size_t m = 0; m < mine.size(); m += static_cast<size_t>(o_.micro_batch)) {
    const size_t m_end = std::min(mine.size(), m + static_cast<size_t>(o_.micro_batch));
    std::vector<int64_t> rows(mine.begin() + static_cast<std::ptrdiff_t>(m), mine.begin() + static_cast<std::ptrdiff_t>(m_end));
    at::Tensor index = at::tensor(rows, at::kLong);
    at::Tensor x = inputs.slice(0, static_cast<int64_t>(m), static_cast<int64_t>(m_end)).to(device_).to(at::kFloat);
    at::Tensor w = train_set_.windows.index_select(0, index).to(device_);
    at::Tensor y = train_set_.labels.index_select(0, index).to(device_);
    at::Tensor loss = focal_loss_per_example(bank_.forward(x, w), y, alpha_, o_.gamma).sum() / global;
    loss.backward();
    local_loss += loss.item<double>();
  }
  // One collective: every gradient and the loss, summed over ranks.
  std::vector<at::Tensor> params = bank_.parameters(), flat_parts;
  for (at::Tensor& p : params)
    flat_parts.push_back(p.grad().defined() ? p.grad().reshape(-1) : at::zeros({p.numel()}, p.options()));
  flat_parts.push_back(at::full({1}, local_loss, params[0].options()));
  // A stop signal on any rank travels in the same collective, so that all ranks stop after this step.
  flat_parts.push_back(at::full({1}, dist::stop_requested() ? 1.0 : 0.0, params[0].options()));
  at::Tensor flat = at::cat(flat_parts).contiguous();
  comm_.allreduce_sum(flat);
  StepOutcome out;
  int64_t offset = 0;
  for (at::Tensor& p : params) {
    out.gradients.push_back(flat.slice(0, offset, offset + p.numel()).view(p.sizes()));
    offset += p.numel();
  }
  out.loss = flat[offset].item<double>();
  out.stop = flat[offset + 1].item<double>() > 0;
  // Every rank holds the same sums, so every rank stops here together: no NaN step, and no NaN routers written.
  DRLLM_CHECK(std::isfinite(out.loss) && at::isfinite(flat).all().item<bool>(), "training step ", step_ + 1,
              ": the loss or a gradient is ", std::isfinite(out.loss) ? "not finite" : cat(out.loss),
              " (the router inputs hold NaN or infinite values, or training diverged); nothing of this step is kept, "
              "the last checkpoint is step ", saved_at_, "; lower --lr or check the labels' features");
  out.samples = end - begin;
  out.batch.assign(order_.begin() + begin, order_.begin() + end);
  optimizer_->step(params, out.gradients, scheduled_lr(o_.adamw.lr, step_, total_steps_, o_.warmup));
  for (at::Tensor& p : params) p.mutable_grad() = at::Tensor();
  ++step_;
  epoch_loss_ += out.loss;
  return out;
}

// Epoch end: metrics on the held-out examples (rank 0; every rank has the same routers).
std::string Trainer::end_epoch(int64_t epoch) {
  std::ostringstream text;
  if (runtime_.is_root()) {
    json line = {{"epoch", epoch}, {"step", step_}, {"train_loss", epoch_loss_ / steps_per_epoch_}};
    if (held_out_.size() > 0) line.update(evaluate_routers(bank_, held_out_, alpha_, o_.gamma, device_));
    metric_lines_.push_back(line.dump());
    metric_times_.push_back(wall_time_now());
    write_file_atomically(metrics_path_, [&](std::ostream& out) {
      for (const std::string& l : metric_lines_) out << l << "\n";
    });
    write_training_events(run_dir_, metric_lines_, metric_times_);
    text << "epoch " << epoch + 1 << "/" << o_.epochs << "  step " << step_ << "  train loss " << std::fixed
         << std::setprecision(4) << epoch_loss_ / steps_per_epoch_;
    if (line.contains("macro_f1"))
      text << "  held-out loss " << line["loss"].get<double>() << "  macro-F1 " << line["macro_f1"].get<double>()
                << "  accuracy " << line["accuracy"].get<double>() << "  predicted layers saved "
                << line["predicted_layers_saved"].get<double>();
  }
  epoch_loss_ = 0;
  return text.str();
}

TrainResult Trainer::train() {
  TrainResult result;
  auto t0 = Clock::now();
  Progress progress("train", last_step_, "steps", runtime_.is_root(), std::cerr);
  progress.resume_from(step_);
  double recent_loss = 0;  // the loss of the last step, for the progress line
  while (step_ < last_step_) {
    const int64_t epoch = step_ / steps_per_epoch_;
    StepOutcome out = train_step();
    ++result.steps;
    result.samples_this_run += out.samples;
    recent_loss = out.loss;
    if (step_ % steps_per_epoch_ == 0) {
      const std::string line = end_epoch(epoch);
      if (runtime_.is_root() && logging(LogLevel::Info)) progress.message(line);
    }
    progress.update(step_, cat("epoch ", step_ / steps_per_epoch_ + (step_ % steps_per_epoch_ != 0), "/", o_.epochs,
                               "  loss ", recent_loss));
    // Checkpoints: every N steps (written in the background), and when any rank was asked to stop or the run
    // ends (waited for).
    const bool ending = out.stop || step_ == last_step_;
    if ((step_ % o_.checkpoint_every == 0 || ending) && step_ != saved_at_)
      checkpoint(/*wait_for_disk=*/ending || o_.checkpoint_sync);
    if (out.stop) {
      result.stopped = true;
      if (runtime_.is_root()) log_warning() << "stop signal: checkpoint at step " << step_ << " written; rerun to resume\n";
      break;
    }
  }
  if (step_ == last_step_ && step_ != saved_at_) checkpoint(/*wait_for_disk=*/true);
  if (runtime_.is_root()) saver_.wait();  // a save still in flight (the last one was not waited for)
  result.finished = step_ >= last_step_;
  progress.finish(step_, cat("loss ", recent_loss));
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return result;
}

TrainResult train_routers(const dist::Runtime& runtime, dist::Communicator& comm, const RouterData& train_set,
                          const RouterData& held_out, const TrainOptions& options, const TrainIdentity& identity,
                          const std::string& run_dir) {
  return Trainer(runtime, comm, train_set, held_out, options, identity, run_dir).train();
}

routing::RouterBank load_run_routers(const std::string& run_dir, std::string* fingerprint) {
  checkpoints::CheckpointStore store(run_dir, 1);
  auto found = store.newest_valid([](const std::string& warning) { log_warning() << "warning: " << warning << "\n"; });
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
