// Backbone on a split model (docs/pipeline-stages.md). The driver (stage 0) runs its layers and sends the states
// on in micro-batches. A later stage holds layers [begin, end) and, for each of the driver's KV caches, the slots
// of those layers: a Forward brings the driver's packed states; the stage runs its layers on them with the same
// packed loop as forward_batch, so each sequence's result is what one process computes, then passes the states
// on, or, as the last stage, returns the logits.
#include <ATen/core/grad_mode.h>  // at::NoGradGuard

#include <algorithm>
#include <chrono>
#include <optional>

#include "common/error.h"
#include "model/backbone.h"
#include "model/micro_batches.h"

namespace drllm::model {

void Backbone::attach_next_stages(std::shared_ptr<StageLink> link, int micro_batches) {
  DRLLM_CHECK(stage_.first() && !stage_.whole(), "only stage 0 of a split model drives the other stages");
  DRLLM_CHECK(micro_batches >= 1, "micro-batches per forward call: ", micro_batches, " (1 sends each call whole)");
  next_stages_ = std::move(link);
  micro_batches_ = micro_batches;
}

int64_t Backbone::weight_bytes() const {
  int64_t total = 0;
  auto add = [&](const at::Tensor& t) {
    if (t.defined()) total += static_cast<int64_t>(t.nbytes());
  };
  add(weights_.embed);
  add(weights_.final_norm);
  if (!weights_.lm_head.defined() || !weights_.embed.defined() || !weights_.lm_head.is_same(weights_.embed))
    add(weights_.lm_head);
  for (const LayerWeights& l : weights_.layers)
    for (const at::Tensor* t : {&l.input_norm, &l.qkv_w, &l.qkv_b, &l.q_norm, &l.k_norm, &l.o_w, &l.o_b, &l.post_norm,
                                &l.gate_up_w, &l.gate_up_b, &l.down_w, &l.down_b})
      add(*t);
  return total;
}

void Backbone::route_with(StageRouter router) {
  DRLLM_CHECK(!stage_.first(), "route_with: the driver's own routers decide its layers (its plan source)");
  stage_router_ = std::move(router);
}

std::vector<uint64_t> Backbone::take_released_caches() {
  std::lock_guard<std::mutex> lock(released_->mutex);
  std::vector<uint64_t> out;
  out.swap(released_->handles);
  return out;
}

void Backbone::send_to_stages(StartedBatch& b, Packed& p, const std::vector<int64_t>& starts,
                              const std::vector<KvCache*>& caches,
                              const std::vector<LayerResultCache*>& layer_caches) {
  const std::vector<SequenceStep>& steps = b.steps;
  const size_t n = steps.size();
  // An observer sees one sequence, whose states come back in order: one group then.
  b.groups = b.observer ? std::vector<std::vector<size_t>>{{0}} : model::micro_batches(p.lengths, micro_batches_);
  b.routed.assign(n, false);

  // Each group through the driver's layers, then on to the next stage while the driver runs the next group.
  for (size_t g = 0; g < b.groups.size(); ++g) {
    const std::vector<size_t>& members = b.groups[g];
    Packed group;
    std::vector<KvCache*> group_caches;
    std::vector<LayerResultCache*> group_layer_caches;
    std::vector<std::vector<uint8_t>> group_counts;
    for (size_t i : members) {
      group.x.push_back(p.x[i]);
      group.cos.push_back(p.cos[i]);
      group.sin.push_back(p.sin[i]);
      group.lengths.push_back(p.lengths[i]);
      group_caches.push_back(caches[i]);
      group_layer_caches.push_back(layer_caches[i]);
      group_counts.push_back(b.counts[i]);
    }
    auto decide = [&](size_t j, int64_t layer) {
      return steps[members[j]].source->decide(layer, group.x[j].unsqueeze(0));
    };
    ObserveState observe;
    if (b.observer)
      observe = [&](size_t, int64_t layer, int pass, const at::Tensor& x) { b.observer(layer, pass, x.unsqueeze(0)); };
    run_packed_layers(group, 0, stage_.end, group_caches, group_layer_caches, decide, observe, group_counts);

    // The rest of each plan: decided by the routers on the later stages for a source that routes in this call,
    // else fixed now (its states are not here: the source is asked without them).
    StageMessage forward;
    if (g == 0) forward.released = take_released_caches();
    for (size_t j = 0; j < members.size(); ++j) {
      const size_t i = members[j];
      std::vector<uint8_t>& counts = b.counts[i];
      counts = std::move(group_counts[j]);
      StageSequence seq{caches[i]->handle(), starts[i], p.lengths[i], steps[i].all_positions, bool(b.observer),
                        caches[i]->mode(), caches[i]->position() + 256, {}};
      if (std::optional<double> knob = steps[i].source->stage_routing_knob()) {
        b.routed[i] = true;
        seq.route = true;
        seq.knob = *knob;
      } else {
        for (int64_t layer = stage_.end; layer < config_.num_layers; ++layer) {
          const int runs = steps[i].source->decide(layer, at::Tensor());
          DRLLM_CHECK(runs >= 0 && runs <= 2, "layer ", layer, " was planned to run ", runs, " times for sequence ",
                      i, "; a plan entry is 0, 1 or 2");
          counts[static_cast<size_t>(layer)] = static_cast<uint8_t>(runs);
        }
      }
      seq.counts = counts;
      forward.sequences.push_back(std::move(seq));
      caches[i]->advance(p.lengths[i]);
    }
    forward.tensor = at::cat(group.x);
    forward.ticket = next_ticket_++;
    b.tickets.push_back(forward.ticket);
    next_stages_->send(forward);
  }
}

std::vector<at::Tensor> Backbone::receive_from_stages(StartedBatch& b) {
  const std::vector<SequenceStep>& steps = b.steps;
  std::vector<at::Tensor> logits_of(steps.size());
  for (size_t g = 0; g < b.groups.size(); ++g) {
    const std::vector<size_t>& members = b.groups[g];
    StageMessage reply = reply_for(b.tickets[g]);
    DRLLM_CHECK(reply.kind == StageMessage::Kind::Reply, "the last pipeline stage did not reply with logits");
    DRLLM_CHECK(reply.sequences.size() == members.size(), "the last pipeline stage replied for ",
                reply.sequences.size(), " sequences, not ", members.size());
    computed_layer_visits_ += reply.layer_visits;
    computed_blocks_ += reply.blocks;
    for (const ObservedState& o : reply.observed) b.observer(o.layer, static_cast<int>(o.pass), o.state.unsqueeze(0));
    int64_t row = 0;
    for (size_t j = 0; j < members.size(); ++j) {
      const size_t i = members[j];
      std::vector<uint8_t>& counts = b.counts[i];
      if (b.routed[i]) {
        const std::vector<uint8_t>& ran = reply.sequences[j].counts;
        DRLLM_CHECK(ran.size() == counts.size(), "the last pipeline stage replied with a plan of ", ran.size(),
                    " layers for a model of ", counts.size());
        std::copy(ran.begin() + stage_.end, ran.end(), counts.begin() + stage_.end);
        steps[i].source->decided_on_stages(counts, stage_.end, reply.sequences[j].router_seconds);
      }
      const int64_t rows = steps[i].all_positions ? steps[i].tokens.size(0) : 1;
      DRLLM_CHECK(row + rows <= reply.tensor.size(0), "the last pipeline stage sent too few logits");
      logits_of[i] = steps[i].all_positions ? reply.tensor.narrow(0, row, rows) : reply.tensor[row];
      row += rows;
    }
  }
  return logits_of;
}

StageMessage Backbone::reply_for(uint64_t ticket) {
  if (auto it = early_replies_.find(ticket); it != early_replies_.end()) {
    StageMessage reply = std::move(it->second);
    early_replies_.erase(it);
    return reply;
  }
  while (true) {
    StageMessage reply = next_stages_->receive();
    if (reply.ticket == ticket) return reply;
    DRLLM_CHECK(reply.ticket < next_ticket_ && !early_replies_.count(reply.ticket),
                "the last pipeline stage replied to ticket ", reply.ticket, ", which was never sent or answered twice");
    early_replies_.emplace(reply.ticket, std::move(reply));
  }
}

StageMessage Backbone::run_stage(const StageMessage& forward) {
  at::NoGradGuard no_grad;
  DRLLM_CHECK(!stage_.first(), "run_stage: stage 0 drives; it does not serve");
  DRLLM_CHECK(forward.kind == StageMessage::Kind::Forward, "run_stage: not a Forward message");
  for (uint64_t handle : forward.released) stage_caches_.erase(handle);
  const size_t n = forward.sequences.size();
  Packed p;
  std::vector<at::Tensor> positions;
  std::vector<KvCache*> caches(n);
  std::vector<std::vector<uint8_t>> counts(n);
  std::vector<bool> all_positions(n);
  int64_t rows = 0;
  for (size_t i = 0; i < n; ++i) {
    const StageSequence& s = forward.sequences[i];
    DRLLM_CHECK(static_cast<int64_t>(s.counts.size()) == config_.num_layers, "pipeline stage: a plan of ",
                s.counts.size(), " layers for a model of ", config_.num_layers);
    auto it = stage_caches_.find(s.handle);
    if (s.start == 0 || it == stage_caches_.end()) {
      // A prefill (or a cache the driver cleared): this stage's slots start empty.
      DRLLM_CHECK(s.start == 0, "pipeline stage: sequence ", s.handle, " continues at position ", s.start,
                  " but this stage holds no cache for it");
      it = stage_caches_.insert_or_assign(s.handle, KvCache(config_.num_layers, s.repeat, s.expected_tokens)).first;
    }
    KvCache& cache = it->second;
    DRLLM_CHECK(cache.position() == s.start, "pipeline stage: sequence ", s.handle, " is at position ",
                cache.position(), " here and ", s.start, " on the driver");
    caches[i] = &cache;
    counts[i] = s.counts;
    all_positions[i] = s.all_positions;
    p.lengths.push_back(s.length);
    positions.push_back(at::arange(s.start, s.start + s.length, at::kLong));
    rows += s.length;
  }
  DRLLM_CHECK(forward.tensor.defined() && forward.tensor.dim() == 2 && forward.tensor.size(0) == rows &&
                  forward.tensor.size(1) == config_.hidden_size && forward.tensor.scalar_type() == dtype_,
              "pipeline stage: the states sent are not [", rows, ", ", config_.hidden_size, "] ", dtype_);
  auto [all_cos, all_sin] = rope_.cos_sin(at::cat(positions).to(device_), dtype_);
  p.x = forward.tensor.split_with_sizes(p.lengths);
  p.cos = all_cos.split_with_sizes(p.lengths);
  p.sin = all_sin.split_with_sizes(p.lengths);

  StageMessage out;
  out.ticket = forward.ticket;
  out.observed = forward.observed;
  const int64_t visits = computed_layer_visits_, blocks = computed_blocks_;
  std::vector<double> router_seconds(n, 0.0);
  auto decide = [&](size_t i, int64_t layer) {
    const StageSequence& s = forward.sequences[i];
    if (!s.route) return static_cast<int>(counts[i][static_cast<size_t>(layer)]);
    DRLLM_CHECK(stage_router_, "pipeline stage ", stage_.index, ": the driver sent a routed sequence, but this stage ",
                "holds no routers (every rank of a routed job loads the same --routers)");
    const auto t0 = std::chrono::steady_clock::now();
    const int runs = stage_router_(layer, p.x[i].unsqueeze(0), s.knob);
    router_seconds[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return runs;
  };
  auto observe = [&](size_t i, int64_t layer, int pass, const at::Tensor& x) {
    if (forward.sequences[i].observe) out.observed.push_back({static_cast<int64_t>(i), layer, pass, x});
  };
  run_packed_layers(p, stage_.begin, stage_.end, caches, std::vector<LayerResultCache*>(n, nullptr), decide, observe,
                    counts);
  for (size_t i = 0; i < n; ++i) caches[i]->advance(p.lengths[i]);
  out.layer_visits = forward.layer_visits + (computed_layer_visits_ - visits);
  out.blocks = forward.blocks + (computed_blocks_ - blocks);
  out.sequences = forward.sequences;  // with this stage's decisions, which a routed sequence's reply brings back
  for (size_t i = 0; i < n; ++i) {
    out.sequences[i].counts = counts[i];
    out.sequences[i].router_seconds += router_seconds[i];
  }
  if (stage_.last()) {
    out.kind = StageMessage::Kind::Reply;
    std::vector<at::Tensor> logits_of = packed_logits(p, all_positions);
    for (at::Tensor& l : logits_of)
      if (l.dim() == 1) l = l.unsqueeze(0);
    out.tensor = at::cat(logits_of);
  } else {
    out.kind = StageMessage::Kind::Forward;
    out.released = forward.released;
    out.tensor = at::cat(p.x);
  }
  return out;
}

}  // namespace drllm::model
