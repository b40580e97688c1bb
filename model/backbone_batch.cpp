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
  at::NoGradGuard no_grad;
  const size_t n = steps.size();
  DRLLM_CHECK(n >= 1, "forward_batch: no sequences");
  std::vector<int64_t> lengths(n), starts(n);
  std::vector<at::Tensor> ids(n), positions(n);
  for (size_t i = 0; i < n; ++i) {
    const SequenceStep& s = steps[i];
    DRLLM_CHECK(s.source && s.cache, "forward_batch: sequence ", i, " has no plan source or KV cache");
    DRLLM_CHECK(s.tokens.dim() == 1 && s.tokens.size(0) >= 1 && s.tokens.scalar_type() == at::kLong,
                "forward_batch: sequence ", i, ": tokens must be [t] int64 with t >= 1, got ", s.tokens.sizes(), " ",
                s.tokens.scalar_type());
    lengths[i] = s.tokens.size(0);
    starts[i] = s.cache->position();
    DRLLM_CHECK(starts[i] == 0 || lengths[i] == 1, "forward_batch: sequence ", i, " has ", starts[i],
                " positions cached and ", lengths[i], " new tokens; after the prefill a sequence takes one token a call");
    DRLLM_CHECK(!config_.sliding_window || starts[i] + lengths[i] <= *config_.sliding_window, "sequence of ",
                starts[i] + lengths[i], " tokens exceeds the model's sliding window (", *config_.sliding_window,
                "), which drllm does not implement");
    ids[i] = s.tokens;
    positions[i] = at::arange(starts[i], starts[i] + lengths[i], at::kLong);
  }

  // Embeddings and rotary tables for all tokens at once, then one [t, D] state per sequence.
  at::Tensor all_ids = at::cat(ids).to(device_);
  DRLLM_CHECK(all_ids.min().item<int64_t>() >= 0 && all_ids.max().item<int64_t>() < config_.vocab_size,
              "token id outside the vocabulary [0, ", config_.vocab_size, ")");
  at::Tensor embedded = at::embedding(weights_.embed, all_ids);  // [N, D]
  auto [all_cos, all_sin] = rope_.cos_sin(at::cat(positions).to(device_), embedded.scalar_type());
  std::vector<at::Tensor> x = embedded.split_with_sizes(lengths), cos = all_cos.split_with_sizes(lengths),
                          sin = all_sin.split_with_sizes(lengths);

  std::vector<std::vector<uint8_t>> counts(n, std::vector<uint8_t>(static_cast<size_t>(config_.num_layers)));
  std::vector<bool> cached(n);
  for (size_t i = 0; i < n; ++i) {
    steps[i].source->begin_forward(/*prefill=*/starts[i] == 0);
    // As in run_layers: a plan source that reads the states must see computed ones, not replayed ones.
    cached[i] = steps[i].layer_cache && !steps[i].source->reads_hidden();
  }

  for (int64_t layer = 0; layer < config_.num_layers; ++layer) {
    std::vector<int> runs(n);
    std::vector<size_t> computed;  // sequences that run this layer and have no stored result for it
    std::vector<std::vector<int64_t>> before(n);
    for (size_t i = 0; i < n; ++i) {
      runs[i] = steps[i].source->decide(layer, x[i].unsqueeze(0));
      DRLLM_CHECK(runs[i] >= 0 && runs[i] <= 2, "layer ", layer, " was planned to run ", runs[i],
                  " times for sequence ", i, "; a plan entry is 0, 1 or 2");
      counts[i][static_cast<size_t>(layer)] = static_cast<uint8_t>(runs[i]);
      if (runs[i] == 0) continue;
      if (cached[i]) {
        at::Tensor hidden;
        std::vector<LayerResultCache::Append> appends;
        if (steps[i].layer_cache->lookup(layer, hidden, appends)) {
          for (const auto& a : appends) steps[i].cache->append(a.slot, a.keys, a.values);
          x[i] = hidden.squeeze(0);
          continue;
        }
        for (int pass = 0; pass < runs[i]; ++pass)
          before[i].push_back(steps[i].cache->length(steps[i].cache->slot(layer, pass)));
      }
      computed.push_back(i);
    }

    // Pass 0 for every sequence that runs the layer, pass 1 for those that repeat it.
    for (int pass = 0; pass < 2; ++pass) {
      std::vector<size_t> members;
      for (size_t i : computed)
        if (runs[i] > pass) members.push_back(i);
      if (members.empty()) continue;
      std::vector<int64_t> sizes;
      for (size_t i : members) sizes.push_back(lengths[i]);
      auto attend = [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {  // [1, heads, N, Dh]
        std::vector<at::Tensor> outputs;
        int64_t offset = 0;
        for (size_t i : members) {
          KvCache& cache = *steps[i].cache;
          auto [keys, values] =
              cache.append(cache.slot(layer, pass), k.narrow(2, offset, lengths[i]), v.narrow(2, offset, lengths[i]));
          outputs.push_back(attention(q.narrow(2, offset, lengths[i]), keys, values));
          offset += lengths[i];
        }
        return outputs.size() == 1 ? outputs[0] : at::cat(outputs, 2);
      };
      at::Tensor out = block(gather(x, members).unsqueeze(0), layer, gather(cos, members), gather(sin, members),
                             attend)[0];  // [N, D]
      std::vector<at::Tensor> parts = out.split_with_sizes(sizes);
      for (size_t j = 0; j < members.size(); ++j) x[members[j]] = parts[j];
      computed_layer_visits_ += static_cast<int64_t>(members.size());
      ++computed_blocks_;
    }
    for (size_t i : computed)
      if (cached[i])
        steps[i].layer_cache->store(layer, x[i].unsqueeze(0).clone(),
                                    appended_since(*steps[i].cache, layer, runs[i], before[i]));
  }

  std::vector<at::Tensor> last;  // the last position of the sequences that want only it
  for (size_t i = 0; i < n; ++i) {
    steps[i].cache->advance(lengths[i]);
    if (!steps[i].all_positions) last.push_back(x[i].narrow(0, lengths[i] - 1, 1));  // [1, D]
  }
  at::Tensor last_logits = last.empty() ? at::Tensor() : logits(at::stack(last), /*all_positions=*/false);  // [m, V]
  std::vector<Forward> out(n);
  int64_t next_last = 0;
  for (size_t i = 0; i < n; ++i) {
    out[i].logits = steps[i].all_positions ? logits(x[i].unsqueeze(0), /*all_positions=*/true)[0]
                                           : last_logits[next_last++];
    out[i].plan = LayerPlan(std::move(counts[i]));
  }
  return out;
}

}  // namespace drllm::model
