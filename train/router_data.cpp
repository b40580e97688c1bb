#include "train/router_data.h"

#include "common/error.h"
#include "routing/router_inputs.h"

namespace drllm::train {

// The shards' `features` dataset is the stored form of routing/router_inputs.h.
static_assert(labels::kFeatureWindows == routing::kRouterWindows);

std::array<int64_t, 3> RouterData::label_counts() const {
  at::Tensor counts = at::bincount(labels.reshape(-1), {}, 3);
  return {counts[0].item<int64_t>(), counts[1].item<int64_t>(), counts[2].item<int64_t>()};
}

RouterData RouterData::subset(const std::vector<int64_t>& rows) const {
  at::Tensor index = at::tensor(rows, at::kLong);
  RouterData out{inputs.subset(rows), windows.index_select(0, index), labels.index_select(0, index), {}};
  for (int64_t r : rows) out.item_ids.push_back(item_ids[static_cast<size_t>(r)]);
  return out;
}

namespace {

// The labels, windows and ids of `set`'s rows; the inputs are the caller's.
RouterData with_labels(const labels::LabelSet& set) {
  const int64_t N = static_cast<int64_t>(set.rows.size()), L = set.header.num_layers;
  RouterData data;
  data.windows = at::zeros({N}, at::kLong);
  std::vector<int64_t> labels;
  labels.reserve(static_cast<size_t>(N * L));
  for (size_t i = 0; i < set.rows.size(); ++i) {
    const labels::LabelRow& r = set.rows[i];
    labels.insert(labels.end(), r.labels.begin(), r.labels.end());
    data.item_ids.push_back(r.item_id);
    data.windows[static_cast<int64_t>(i)] = static_cast<int64_t>(r.feature_windows);
  }
  data.labels = at::tensor(labels, at::kLong).view({N, L});
  return data;
}

}  // namespace

RouterData cached_router_data(const labels::LabelSet& set, bool stream) {
  DRLLM_CHECK(set.header.feature_dim > 0, "the labels have no router features: search with --save-features, ",
              "or train with --inputs online");
  RouterData data = with_labels(set);
  data.inputs = FeatureRows::in_shards(set);
  if (!stream) data.inputs = data.inputs.held_in_memory();
  return data;
}

RouterData online_router_data(const labels::LabelSet& set, model::Backbone& backbone) {
  DRLLM_CHECK(backbone.config().num_layers == set.header.num_layers, "the model has ", backbone.config().num_layers,
              " layers, the labels ", set.header.num_layers);
  const int64_t N = static_cast<int64_t>(set.rows.size()), L = set.header.num_layers;
  RouterData data = with_labels(set);
  at::Tensor all = at::zeros({N, L, routing::kRouterWindows, backbone.config().hidden_size}, at::kHalf);
  for (size_t i = 0; i < set.rows.size(); ++i) {
    const labels::LabelRow& r = set.rows[i];
    at::Tensor inputs = routing::router_inputs_along_plan(backbone, r.prompt_tokens, model::LayerPlan(r.labels));
    all[static_cast<int64_t>(i)] = routing::stored_router_inputs(inputs);
    data.windows[static_cast<int64_t>(i)] = inputs.size(1);
  }
  data.inputs = FeatureRows::in_memory(all);
  return data;
}

RouterData concatenate(const std::vector<RouterData>& parts) {
  DRLLM_CHECK(!parts.empty(), "no router data");
  if (parts.size() == 1) return parts.front();
  std::vector<FeatureRows> inputs;
  std::vector<at::Tensor> windows, labels;
  RouterData out;
  for (const RouterData& p : parts) {
    inputs.push_back(p.inputs);
    windows.push_back(p.windows);
    labels.push_back(p.labels);
    out.item_ids.insert(out.item_ids.end(), p.item_ids.begin(), p.item_ids.end());
  }
  out.inputs = FeatureRows::concatenate(inputs);
  out.windows = at::cat(windows);
  out.labels = at::cat(labels);
  return out;
}

void split_holdout(int64_t n, int64_t every, std::vector<int64_t>& train, std::vector<int64_t>& held_out) {
  for (int64_t i = 0; i < n; ++i) (every > 0 && i % every == every - 1 ? held_out : train).push_back(i);
}

}  // namespace drllm::train
