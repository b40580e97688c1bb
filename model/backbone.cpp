#include "model/backbone.h"
#include "common/console.h"

#include <ATen/Context.h>  // at::hasCUDA, at::getNumGPUs
#include <ATen/core/grad_mode.h>  // at::NoGradGuard

#include <filesystem>
#include <iostream>
#include <optional>

#include "common/error.h"
#include "formats/gguf.h"
#include "model/compute_dtype.h"
#include "model/converted_cache.h"
#include "model/gguf_model.h"
#include "model/model_files.h"
#include "formats/safetensors.h"

namespace drllm::model {

namespace {
// The dtype the weights hold: a later stage has no embeddings, so it is read from the first tensor there is.
at::ScalarType weights_dtype(const BackboneWeights& w, const StageRange& stage) {
  if (w.embed.defined()) return w.embed.scalar_type();
  DRLLM_CHECK(stage.begin < stage.end && w.layers.at(static_cast<size_t>(stage.begin)).qkv_w.defined(),
              "a backbone stage without weights");
  return w.layers[static_cast<size_t>(stage.begin)].qkv_w.scalar_type();
}
}  // namespace

Backbone::Backbone(ModelConfig config, BackboneWeights weights, at::Device device, std::optional<StageRange> stage)
    : config_(std::move(config)),
      weights_(std::move(weights)),
      device_(device),
      dtype_(weights_dtype(weights_, stage.value_or(whole_model(config_)))),
      rope_(config_, device),
      stage_(stage.value_or(whole_model(config_))) {}

Backbone Backbone::load(const std::string& model_path, const LoadOptions& options) {
  return load(ModelFiles::open(model_path), options);
}

namespace {

// The --device text as a device this process can use: a clear error for a malformed name, a CUDA device in a build
// or on a machine without CUDA, or a device index past the ones there are (LibTorch's own messages list its
// dispatcher's backends instead).
at::Device usable_device(const std::string& text) {
  std::optional<at::Device> device;
  try {
    device.emplace(text);
  } catch (const c10::Error&) {
    throw Error(cat("--device '", text, "' is not a device; expected cpu, cuda or cuda:N"));
  }
  if (device->is_cuda()) {
    DRLLM_CHECK(at::hasCUDA(), "--device ", text, ": CUDA is not available here (this build or this machine has no ",
                "GPU; a CUDA build is configured with -DDRLLM_CUDA=ON)");
    const int64_t count = static_cast<int64_t>(at::getNumGPUs());
    DRLLM_CHECK(device->index() < count, "--device ", text, ": this machine has ", count, " CUDA device",
                count == 1 ? "" : "s", " (cuda:0 to cuda:", count - 1, ")");
  } else {
    DRLLM_CHECK(device->is_cpu(), "--device ", text, ": drllm runs on cpu or cuda");
  }
  return *device;
}

}  // namespace

Backbone Backbone::load(const ModelFiles& files, const LoadOptions& options) {
  at::Device device = usable_device(options.device);
  auto compute_dtype = [&](const std::string& checkpoint_dtype) {
    return resolve_compute_dtype(options.dtype, device, checkpoint_dtype);
  };
  ModelConfig config = files.config();
  DRLLM_CHECK(options.stage_count >= 1 && options.stage_index >= 0 && options.stage_index < options.stage_count,
              "pipeline stage ", options.stage_index, " of ", options.stage_count, " does not exist");
  const StageRange stage = options.stage_count == 1
                               ? whole_model(config)
                               : split_by_parameter_bytes(config, options.stage_count)[options.stage_index];
  if (files.is_gguf()) {
    // A quantized file has no single dtype: CUDA computes in bf16 unless told otherwise. Dequantized once per
    // machine and dtype, then mapped (model/converted_cache.h).
    at::ScalarType dtype = compute_dtype("bfloat16");
    BackboneWeights weights = load_gguf_weights_cached(files, config, dtype, device, &log_info(), stage);
    return Backbone(std::move(config), std::move(weights), device, stage);
  }
  const formats::SafetensorsCheckpoint& checkpoint = files.safetensors();
  BackboneWeights weights =
      load_weights(SafetensorsWeightSource(checkpoint, compute_dtype(config.dtype), device), config, stage);
  return Backbone(std::move(config), std::move(weights), device, stage);
}


KvCache Backbone::new_cache(RepeatKv mode, int64_t expected_tokens) const {
  KvCache cache(config_.num_layers, mode, expected_tokens);
  if (next_stages_) {
    // The later stages keep this cache's slots of their layers under its handle until its last copy goes.
    const uint64_t handle = ++next_handle_;
    std::shared_ptr<Released> released = released_;
    cache.set_handle(handle, std::shared_ptr<void>(nullptr, [released, handle](void*) {
                       std::lock_guard<std::mutex> lock(released->mutex);
                       released->handles.push_back(handle);
                     }));
  }
  return cache;
}

// ---------------------------------------------------------------------------------------------------------
// Entry points

Backbone::Forward Backbone::prefill(const at::Tensor& tokens, PlanSource& source, KvCache& cache,
                                   const LayerObserver& observer, bool all_positions, LayerResultCache* layer_cache) {
  DRLLM_CHECK(tokens.dim() == 2 && tokens.size(1) >= 1, "prefill: tokens must be [B, T] with T >= 1, got ",
              tokens.sizes());
  DRLLM_CHECK(cache.position() == 0, "prefill: the KV cache already holds ", cache.position(),
              " positions; prefill starts from an empty cache (use decode to extend)");
  if (!stage_.whole()) {
    DRLLM_CHECK(tokens.size(0) == 1, "prefill: a model split into pipeline stages runs [1, T] calls (or forward_batch)");
    StartedBatch started = start_packed({{tokens[0], &source, &cache, layer_cache, all_positions}}, observer);
    Forward out = std::move(finish_batch(started)[0]);
    out.logits = out.logits.unsqueeze(0);
    return out;
  }
  source.begin_forward(/*prefill=*/true);
  Forward out;
  out.logits = logits(run_layers(tokens, source, cache, observer, layer_cache, out.plan), all_positions);
  return out;
}

Backbone::Forward Backbone::decode(const at::Tensor& tokens, PlanSource& source, KvCache& cache,
                                  const LayerObserver& observer, LayerResultCache* layer_cache) {
  DRLLM_CHECK(tokens.dim() == 2 && tokens.size(1) == 1, "decode: tokens must be [B, 1], got ", tokens.sizes());
  DRLLM_CHECK(cache.position() > 0, "decode: the KV cache is empty; run prefill first");
  if (!stage_.whole()) {
    DRLLM_CHECK(tokens.size(0) == 1, "decode: a model split into pipeline stages runs [1, 1] calls (or forward_batch)");
    StartedBatch started = start_packed({{tokens[0], &source, &cache, layer_cache, false}}, observer);
    Forward out = std::move(finish_batch(started)[0]);
    out.logits = out.logits.unsqueeze(0);
    return out;
  }
  source.begin_forward(/*prefill=*/false);
  Forward out;
  out.logits = logits(run_layers(tokens, source, cache, observer, layer_cache, out.plan), false);
  return out;
}

at::Tensor Backbone::prefill(const at::Tensor& tokens, const LayerPlan& plan, KvCache& cache,
                             const LayerObserver& observer, bool all_positions, LayerResultCache* layer_cache) {
  plan.check_length(config_.num_layers);
  FixedPlan source(plan);
  return prefill(tokens, source, cache, observer, all_positions, layer_cache).logits;
}

at::Tensor Backbone::decode(const at::Tensor& tokens, const LayerPlan& plan, KvCache& cache,
                            const LayerObserver& observer, LayerResultCache* layer_cache) {
  plan.check_length(config_.num_layers);
  FixedPlan source(plan);
  return decode(tokens, source, cache, observer, layer_cache).logits;
}

// ---------------------------------------------------------------------------------------------------------
// The planned forward: one visible loop over layers: observe, decide, visit.

at::Tensor Backbone::run_layers(const at::Tensor& tokens, PlanSource& source, KvCache& cache,
                                const LayerObserver& observer, LayerResultCache* layer_cache, LayerPlan& ran) {
  at::NoGradGuard no_grad;  // the backbone is frozen: never record autograd history through it
  DRLLM_CHECK(tokens.scalar_type() == at::kLong, "tokens must be int64, got ", tokens.scalar_type());
  const int64_t start = cache.position();
  const int64_t t = tokens.size(1);
  DRLLM_CHECK(!config_.sliding_window || start + t <= *config_.sliding_window, "sequence of ", start + t,
              " tokens exceeds the model's sliding window (", *config_.sliding_window,
              "), which drllm does not implement");
  at::Tensor ids = tokens.to(device_);
  DRLLM_CHECK(ids.min().item<int64_t>() >= 0 && ids.max().item<int64_t>() < config_.vocab_size,
              "token id outside the vocabulary [0, ", config_.vocab_size, ")");

  at::Tensor x = at::embedding(weights_.embed, ids);  // [B, T, D]
  auto [cos, sin] = rope_.cos_sin(at::arange(start, start + t, at::TensorOptions(at::kLong).device(device_)),
                                  x.scalar_type());
  // An observer, or a plan source that reads the states, must see every state: a layer-result cache (which
  // replays states instead of computing them) is bypassed then.
  const bool use_cache = layer_cache && !observer && !source.reads_hidden();
  std::vector<uint8_t> counts(static_cast<size_t>(config_.num_layers));
  for (int64_t layer = 0; layer < config_.num_layers; ++layer) {
    if (observer) observer(layer, 0, x);
    const int runs = source.decide(layer, x);
    DRLLM_CHECK(runs >= 0 && runs <= 2, "layer ", layer, " was planned to run ", runs, " times; a plan entry is 0, 1 or 2");
    counts[static_cast<size_t>(layer)] = static_cast<uint8_t>(runs);
    if (runs == 0) continue;
    x = use_cache ? visit_cached(x, layer, runs, cos, sin, cache, *layer_cache)
                  : visit(x, layer, runs, cos, sin, cache, observer);
  }
  cache.advance(t);
  ran = LayerPlan(std::move(counts));
  return x;
}

at::Tensor Backbone::visit(const at::Tensor& input, int64_t layer, int runs, const at::Tensor& cos,
                           const at::Tensor& sin, KvCache& cache, const LayerObserver& observer) {
  at::Tensor x = input;
  for (int pass = 0; pass < runs; ++pass) {
    if (pass == 1 && observer) observer(layer, 1, x);
    x = block(x, layer, cache.slot(layer, pass), cos, sin, cache);
    ++computed_layer_visits_;
    ++computed_blocks_;
  }
  return x;
}

at::Tensor Backbone::visit_cached(const at::Tensor& x, int64_t layer, int runs, const at::Tensor& cos,
                                  const at::Tensor& sin, KvCache& cache, LayerResultCache& layer_cache) {
  std::vector<LayerResultCache::Append> appends;
  at::Tensor hidden;
  if (layer_cache.lookup(layer, hidden, appends)) {
    for (const auto& a : appends) cache.append(a.slot, a.keys, a.values);
    return hidden;
  }
  std::vector<int64_t> before;  // slot lengths, to hand the new keys/values to the layer cache
  for (int pass = 0; pass < runs; ++pass) before.push_back(cache.length(cache.slot(layer, pass)));
  hidden = visit(x, layer, runs, cos, sin, cache, nullptr);
  appends = appended_since(cache, layer, runs, before);
  layer_cache.store(layer, hidden, appends);
  return hidden;
}

std::vector<LayerResultCache::Append> Backbone::appended_since(const KvCache& cache, int64_t layer, int runs,
                                                               const std::vector<int64_t>& before) {
  std::vector<LayerResultCache::Append> appends;
  for (int pass = 0; pass < runs; ++pass) {
    int64_t slot = cache.slot(layer, pass);
    // With a shared repeat both passes wrote to one slot: hand it over once, whole.
    if (pass == 1 && slot == cache.slot(layer, 0)) continue;
    auto [k, v] = cache.range(slot, before[static_cast<size_t>(pass)], cache.length(slot));
    appends.push_back({slot, k.clone(), v.clone()});
  }
  return appends;
}

at::Tensor Backbone::block(const at::Tensor& x, int64_t layer, int64_t slot, const at::Tensor& cos,
                           const at::Tensor& sin, KvCache& cache) {
  return block(x, layer, cos, sin, [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    auto [keys, values] = cache.append(slot, k, v);  // [B, Hkv, S, Dh]
    return attention(q, keys, values);
  });
}

at::Tensor Backbone::block(const at::Tensor& x, int64_t layer, const at::Tensor& cos, const at::Tensor& sin,
                           const Attend& attend) {
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  const int64_t B = x.size(0), T = x.size(1), H = config_.num_heads, Hkv = config_.num_kv_heads,
                Dh = config_.head_dim;

  // Attention: fused q/k/v projection, per-head q/k norm (qwen3), rotary, then the caller's cache and attention.
  at::Tensor qkv = project(rms_norm(x, w.input_norm), w.qkv_w, w.qkv_b);  // [B, T, (H + 2 Hkv) Dh]
  at::Tensor q = qkv.narrow(-1, 0, H * Dh).view({B, T, H, Dh});
  at::Tensor k = qkv.narrow(-1, H * Dh, Hkv * Dh).view({B, T, Hkv, Dh});
  at::Tensor v = qkv.narrow(-1, (H + Hkv) * Dh, Hkv * Dh).view({B, T, Hkv, Dh}).transpose(1, 2);
  if (config_.qk_norm) {
    q = rms_norm(q, w.q_norm);
    k = rms_norm(k, w.k_norm);
  }
  q = Rope::apply(q.transpose(1, 2), cos, sin);  // [B, H, T, Dh]
  k = Rope::apply(k.transpose(1, 2), cos, sin);  // [B, Hkv, T, Dh]
  at::Tensor attn = attend(q, k, v);             // [B, H, T, Dh]
  at::Tensor h = x + project(attn.transpose(1, 2).reshape({B, T, H * Dh}), w.o_w, w.o_b);

  // Feed-forward: SwiGLU with the fused gate/up projection.
  at::Tensor gate_up = project(rms_norm(h, w.post_norm), w.gate_up_w, w.gate_up_b);  // [B, T, 2F]
  const int64_t F = config_.intermediate_size;
  at::Tensor act = at::silu(gate_up.narrow(-1, 0, F)) * gate_up.narrow(-1, F, F);
  return h + project(act, w.down_w, w.down_b);
}

// Causal with top-left alignment, as transformers' sdpa path: query i sees slot entries 0..i. With a shared
// repeat this is the first pass's keys (docs/method.md). A single decode query sees the whole slot.
at::Tensor Backbone::attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values) const {
  return at::scaled_dot_product_attention(q, keys, values, /*attn_mask=*/{}, /*dropout_p=*/0.0,
                                          /*is_causal=*/q.size(2) > 1, /*scale=*/std::nullopt,
                                          /*enable_gqa=*/config_.num_heads != config_.num_kv_heads);
}

// oneDNN's bf16 (and fp16) matmul computes a row the same way whatever the number of rows, from two rows up; a
// single row takes another kernel, whose rounding differs. So a single row is computed beside a zero row: a
// sequence's logits in a batch (model/backbone_batch.cpp) are then bit-identical to its batch-1 run, and a bf16
// search gives the same labels at any --batch. Measured on this CPU's oneDNN for every projection shape of the
// registry's models, 2 to 227 rows, 1 and 2 threads. (fp32's MKL kernels differ by the row count in the last
// bits in other ways; fp32 results agree to rounding, which the tests bound.)
at::Tensor Backbone::project(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) const {
  if (x.scalar_type() == at::kFloat || x.numel() != x.size(-1)) return at::linear(x, weight, bias);
  at::Tensor row = x.reshape({1, x.size(-1)});
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = weight.size(0);
  return at::linear(at::cat({row, at::zeros_like(row)}), weight, bias).narrow(0, 0, 1).view(shape);
}

// Hugging Face LlamaRMSNorm: normalise in fp32, cast back, then scale.
at::Tensor Backbone::rms_norm(const at::Tensor& x, const at::Tensor& weight) const {
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + config_.rms_norm_eps);
  return weight * normed.to(x.scalar_type());
}

at::Tensor Backbone::logits(const at::Tensor& hidden, bool all_positions) const {
  at::Tensor h = all_positions ? hidden : hidden.select(1, hidden.size(1) - 1);  // [B, T, D] or [B, D]
  return project(rms_norm(h, weights_.final_norm), weights_.lm_head, {}).to(at::kFloat);
}

}  // namespace drllm::model
