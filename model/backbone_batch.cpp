// Backbone::forward_batch: many sequences, each with its own layer plan, KV cache and length, in one forward call.
//
// Layout: packing, not padding. Every op of a block but attention is row-wise (norms, projections, rotary, the
// MLP), so the tokens of the sequences that run a layer are concatenated into one [1, N, D] matrix and computed
// together: the weights are read once for all of them, which is what batching buys at decode. Attention is the
// one op that mixes positions; it runs per sequence, over that sequence's own cache slot, so no padding is
// computed and no mask is needed, and a sequence's cache holds exactly the layer visits it ran, in either repeat
// semantics. Sequences of one call may be at different points: a prompt being prefilled next to others decoding
// (continuous batching, model/batch_generation.h).
#include <ATen/core/grad_mode.h>  // at::NoGradGuard

#include "common/error.h"
#include "model/backbone.h"

namespace drllm::model {
namespace {

// The rows of `parts` selected by `members`, concatenated [N, ...].
at::Tensor gather(const std::vector<at::Tensor>& parts, const std::vector<size_t>& members) {
  std::vector<at::Tensor> picked;
  picked.reserve(members.size());
  for (size_t i : members) picked.push_back(parts[i]);
  return picked.size() == 1 ? picked[0] : at::cat(picked, 0);
}

}  // namespace

std::vector<Backbone::Forward> Backbone::forward_batch(const std::vector<SequenceStep>& steps) {
  StartedBatch started = start_packed(steps, nullptr);
  return finish_batch(started);
}

Backbone::StartedBatch Backbone::start_batch(const std::vector<SequenceStep>& steps) {
  return start_packed(steps, nullptr);
}

std::vector<Backbone::Forward> Backbone::finish_batch(StartedBatch& b) {
  if (stage_.whole()) return std::move(b.done);
  std::vector<at::Tensor> logits_of = receive_from_stages(b);
  std::vector<Forward> out(b.steps.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].logits = logits_of[i];
    out[i].plan = LayerPlan(std::move(b.counts[i]));
  }
  return out;
}

Backbone::StartedBatch Backbone::start_packed(const std::vector<SequenceStep>& steps, const LayerObserver& observer) {
  at::NoGradGuard no_grad;
  const size_t n = steps.size();
  DRLLM_CHECK(n >= 1, "forward_batch: no sequences");
  DRLLM_CHECK(!observer || n == 1, "forward_batch: an observer sees one sequence");
  DRLLM_CHECK(stage_.first(), "forward_batch: stage ", stage_.index, " of a pipeline runs only what the driver sends");
  DRLLM_CHECK(stage_.whole() || next_stages_, "forward_batch: this backbone is stage 0 of ", stage_.count,
              " but is linked to no other stages");
  Packed p;
  p.lengths.resize(n);
  std::vector<int64_t> starts(n);
  std::vector<at::Tensor> ids(n), positions(n);
  for (size_t i = 0; i < n; ++i) {
    const SequenceStep& s = steps[i];
    DRLLM_CHECK(s.source && s.cache, "forward_batch: sequence ", i, " has no plan source or KV cache");
    DRLLM_CHECK(s.tokens.dim() == 1 && s.tokens.size(0) >= 1 && s.tokens.scalar_type() == at::kLong,
                "forward_batch: sequence ", i, ": tokens must be [t] int64 with t >= 1, got ", s.tokens.sizes(), " ",
                s.tokens.scalar_type());
    p.lengths[i] = s.tokens.size(0);
    starts[i] = s.cache->position();
    DRLLM_CHECK(starts[i] == 0 || p.lengths[i] == 1, "forward_batch: sequence ", i, " has ", starts[i],
                " positions cached and ", p.lengths[i], " new tokens; after the prefill a sequence takes one token a call");
    DRLLM_CHECK(!config_.sliding_window || starts[i] + p.lengths[i] <= *config_.sliding_window, "sequence of ",
                starts[i] + p.lengths[i], " tokens exceeds the model's sliding window (", *config_.sliding_window,
                "), which drllm does not implement");
    ids[i] = s.tokens;
    positions[i] = at::arange(starts[i], starts[i] + p.lengths[i], at::kLong);
  }

  // Embeddings and rotary tables for all tokens at once, then one [t, D] state per sequence.
  at::Tensor all_ids = at::cat(ids).to(device_);
  DRLLM_CHECK(all_ids.min().item<int64_t>() >= 0 && all_ids.max().item<int64_t>() < config_.vocab_size,
              "token id outside the vocabulary [0, ", config_.vocab_size, ")");
  at::Tensor embedded = at::embedding(weights_.embed, all_ids);  // [N, D]
  auto [all_cos, all_sin] = rope_.cos_sin(at::cat(positions).to(device_), embedded.scalar_type());
  p.x = embedded.split_with_sizes(p.lengths);
  p.cos = all_cos.split_with_sizes(p.lengths);
  p.sin = all_sin.split_with_sizes(p.lengths);

  std::vector<std::vector<uint8_t>> counts(n, std::vector<uint8_t>(static_cast<size_t>(config_.num_layers)));
  std::vector<KvCache*> caches(n);
  std::vector<LayerResultCache*> layer_caches(n);
  for (size_t i = 0; i < n; ++i) {
    steps[i].source->begin_forward(/*prefill=*/starts[i] == 0);
    caches[i] = steps[i].cache;
    // As in run_layers: a plan source that reads the states, or an observer, must see computed states, not
    // replayed ones.
    if (!steps[i].source->reads_hidden() && !observer) layer_caches[i] = steps[i].layer_cache;
  }
  StartedBatch b;
  if (!stage_.whole()) {
    b.steps = steps;
    b.observer = observer;
    b.counts = std::move(counts);
    send_to_stages(b, p, starts, caches, layer_caches);
    return b;
  }
  auto decide = [&](size_t i, int64_t layer) { return steps[i].source->decide(layer, p.x[i].unsqueeze(0)); };
  ObserveState observe;
  if (observer)
    observe = [&](size_t, int64_t layer, int pass, const at::Tensor& x) { observer(layer, pass, x.unsqueeze(0)); };
  run_packed_layers(p, 0, config_.num_layers, caches, layer_caches, decide, observe, counts);
  std::vector<bool> all_positions(n);
  for (size_t i = 0; i < n; ++i) all_positions[i] = steps[i].all_positions;
  std::vector<at::Tensor> logits_of = packed_logits(p, all_positions);
  b.done.resize(n);
  for (size_t i = 0; i < n; ++i) {
    caches[i]->advance(p.lengths[i]);
    b.done[i].logits = logits_of[i];
    b.done[i].plan = LayerPlan(std::move(counts[i]));
  }
  return b;
}

void Backbone::run_packed_layers(Packed& p, int64_t begin, int64_t end, const std::vector<KvCache*>& caches,
                                 const std::vector<LayerResultCache*>& layer_caches, const DecideRuns& decide,
                                 const ObserveState& observe, std::vector<std::vector<uint8_t>>& counts) {
  const size_t n = p.x.size();
  for (int64_t layer = begin; layer < end; ++layer) {
    std::vector<int> runs(n);
    std::vector<size_t> computed;  // sequences that run this layer and have no stored result for it
    std::vector<std::vector<int64_t>> before(n);
    for (size_t i = 0; i < n; ++i) {
      if (observe) observe(i, layer, 0, p.x[i]);
      runs[i] = decide(i, layer);
      DRLLM_CHECK(runs[i] >= 0 && runs[i] <= 2, "layer ", layer, " was planned to run ", runs[i],
                  " times for sequence ", i, "; a plan entry is 0, 1 or 2");
      counts[i][static_cast<size_t>(layer)] = static_cast<uint8_t>(runs[i]);
      if (runs[i] == 0) continue;
      if (layer_caches[i]) {
        at::Tensor hidden;
        std::vector<LayerResultCache::Append> appends;
        if (layer_caches[i]->lookup(layer, hidden, appends)) {
          for (const auto& a : appends) caches[i]->append(a.slot, a.keys, a.values);
          p.x[i] = hidden.squeeze(0);
          continue;
        }
        for (int pass = 0; pass < runs[i]; ++pass)
          before[i].push_back(caches[i]->length(caches[i]->slot(layer, pass)));
      }
      computed.push_back(i);
    }

    // Pass 0 for every sequence that runs the layer, pass 1 for those that repeat it.
    for (int pass = 0; pass < 2; ++pass) {
      std::vector<size_t> members;
      for (size_t i : computed)
        if (runs[i] > pass) members.push_back(i);
      if (members.empty()) continue;
      if (pass == 1 && observe)
        for (size_t i : members) observe(i, layer, 1, p.x[i]);
      std::vector<int64_t> sizes;
      for (size_t i : members) sizes.push_back(p.lengths[i]);
      auto attend = [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {  // [1, heads, N, Dh]
        std::vector<at::Tensor> outputs;
        int64_t offset = 0;
        for (size_t i : members) {
          KvCache& cache = *caches[i];
          const int64_t t = p.lengths[i];
          auto [keys, values] = cache.append(cache.slot(layer, pass), k.narrow(2, offset, t), v.narrow(2, offset, t));
          outputs.push_back(attention(q.narrow(2, offset, t), keys, values));
          offset += t;
        }
        return outputs.size() == 1 ? outputs[0] : at::cat(outputs, 2);
      };
      at::Tensor out = block(gather(p.x, members).unsqueeze(0), layer, gather(p.cos, members), gather(p.sin, members),
                             attend)[0];  // [N, D]
      std::vector<at::Tensor> parts = out.split_with_sizes(sizes);
      for (size_t j = 0; j < members.size(); ++j) p.x[members[j]] = parts[j];
      computed_layer_visits_ += static_cast<int64_t>(members.size());
      ++computed_blocks_;
    }
    for (size_t i : computed)
      if (layer_caches[i])
        layer_caches[i]->store(layer, p.x[i].unsqueeze(0).clone(),
                               appended_since(*caches[i], layer, runs[i], before[i]));
  }
}

std::vector<at::Tensor> Backbone::packed_logits(const Packed& p, const std::vector<bool>& all_positions) const {
  const size_t n = p.x.size();
  std::vector<at::Tensor> last;  // the last position of the sequences that want only it
  for (size_t i = 0; i < n; ++i)
    if (!all_positions[i]) last.push_back(p.x[i].narrow(0, p.lengths[i] - 1, 1));  // [1, D]
  at::Tensor last_logits = last.empty() ? at::Tensor() : logits(at::stack(last), /*all_positions=*/false);  // [m, V]
  std::vector<at::Tensor> out(n);
  int64_t next_last = 0;
  for (size_t i = 0; i < n; ++i)
    out[i] = all_positions[i] ? logits(p.x[i].unsqueeze(0), /*all_positions=*/true)[0] : last_logits[next_last++];
  return out;
}

}  // namespace drllm::model
