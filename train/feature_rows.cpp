#include "train/feature_rows.h"

#include <cstring>
#include <map>

#include "common/error.h"
#include "data/labels/shard_features.h"
#include "routing/router_inputs.h"

namespace drllm::train {

struct FeatureRows::Source {
  at::Tensor tensor;                                 // in memory, or
  std::unique_ptr<labels::ShardFeatures> shard;      // read from the shard when asked
};

FeatureRows FeatureRows::in_memory(at::Tensor inputs) {
  DRLLM_CHECK(inputs.dim() == 4 && inputs.scalar_type() == at::kHalf && inputs.device().is_cpu(),
              "router inputs must be [N, L, W, d] float16 on the CPU, found ", inputs.sizes(), " ", inputs.dtype());
  FeatureRows out;
  out.layers_ = inputs.size(1);
  out.windows_ = inputs.size(2);
  out.dim_ = inputs.size(3);
  out.sources_.push_back(std::make_shared<const Source>(Source{inputs.contiguous(), nullptr}));
  for (int64_t i = 0; i < inputs.size(0); ++i) out.where_.push_back({0, i});
  return out;
}

FeatureRows FeatureRows::in_shards(const labels::LabelSet& set) {
  DRLLM_CHECK(set.header.feature_dim > 0, "the labels have no router features: search with --save-features, ",
              "or train with --inputs online");
  FeatureRows out;
  out.layers_ = set.header.num_layers;
  out.windows_ = routing::kRouterWindows;
  out.dim_ = set.header.feature_dim;
  std::map<int32_t, int32_t> source_of_shard;  // only the shards some row still comes from are opened
  for (const labels::LabelRow& r : set.rows) {
    DRLLM_CHECK(r.origin.shard >= 0 && static_cast<size_t>(r.origin.shard) < set.shards.size(), "example ", r.item_id,
                ": no shard to stream its router features from (the label set was not read by read_label_set)");
    auto [it, fresh] = source_of_shard.emplace(r.origin.shard, static_cast<int32_t>(out.sources_.size()));
    if (fresh) {
      const std::string& path = set.shards[static_cast<size_t>(r.origin.shard)];
      auto shard = std::make_unique<labels::ShardFeatures>(path);
      DRLLM_CHECK(shard->layers() == out.layers_ && shard->dim() == out.dim_, path, ": features of ", shard->layers(),
                  " layers x ", shard->dim(), ", the labels say ", out.layers_, " x ", out.dim_);
      out.sources_.push_back(std::make_shared<const Source>(Source{at::Tensor(), std::move(shard)}));
    }
    const Source& source = *out.sources_[static_cast<size_t>(it->second)];
    DRLLM_CHECK(r.origin.row < source.shard->rows(), set.shards[static_cast<size_t>(r.origin.shard)], ": example ",
                r.item_id, " is row ", r.origin.row, " of a shard of ", source.shard->rows());
    out.where_.push_back({it->second, r.origin.row});
  }
  return out;
}

FeatureRows FeatureRows::concatenate(const std::vector<FeatureRows>& parts) {
  DRLLM_CHECK(!parts.empty(), "no router inputs");
  FeatureRows out;
  out.layers_ = parts.front().layers_;
  out.windows_ = parts.front().windows_;
  out.dim_ = parts.front().dim_;
  for (const FeatureRows& p : parts) {
    DRLLM_CHECK(p.layers_ == out.layers_ && p.windows_ == out.windows_ && p.dim_ == out.dim_,
                "label sets of different layer counts or widths cannot train one router bank");
    const int32_t offset = static_cast<int32_t>(out.sources_.size());
    out.sources_.insert(out.sources_.end(), p.sources_.begin(), p.sources_.end());
    for (const Where& w : p.where_) out.where_.push_back({w.source + offset, w.row});
  }
  return out;
}

bool FeatureRows::streamed() const {
  for (const auto& s : sources_)
    if (s->shard) return true;
  return false;
}

FeatureRows FeatureRows::subset(const std::vector<int64_t>& rows) const {
  FeatureRows out;
  out.layers_ = layers_;
  out.windows_ = windows_;
  out.dim_ = dim_;
  out.sources_ = sources_;
  for (int64_t r : rows) {
    DRLLM_CHECK(r >= 0 && r < size(), "router input row ", r, " of ", size());
    out.where_.push_back(where_[static_cast<size_t>(r)]);
  }
  return out;
}

FeatureRows FeatureRows::held_in_memory() const {
  std::vector<int64_t> all(static_cast<size_t>(size()));
  for (int64_t i = 0; i < size(); ++i) all[static_cast<size_t>(i)] = i;
  return in_memory(gather(all));
}

at::Tensor FeatureRows::gather(const std::vector<int64_t>& rows) const {
  const int64_t k = static_cast<int64_t>(rows.size());
  // The common case, one tensor: a single index_select, as training did before rows could stream.
  if (sources_.size() == 1 && !sources_.front()->shard) {
    std::vector<int64_t> index;
    index.reserve(rows.size());
    for (int64_t r : rows) index.push_back(where_.at(static_cast<size_t>(r)).row);
    return sources_.front()->tensor.index_select(0, at::tensor(index, at::kLong));
  }
  at::Tensor out = at::empty({k, layers_, windows_, dim_}, at::kHalf);
  const int64_t values = layers_ * windows_ * dim_;
  auto* base = static_cast<uint16_t*>(out.data_ptr());
  for (int64_t i = 0; i < k; ++i) {
    const Where& w = where_.at(static_cast<size_t>(rows[static_cast<size_t>(i)]));
    const Source& source = *sources_[static_cast<size_t>(w.source)];
    if (source.shard)
      source.shard->read(w.row, base + i * values);
    else
      std::memcpy(base + i * values, source.tensor[w.row].data_ptr(), static_cast<size_t>(values) * 2);
  }
  return out;
}

}  // namespace drllm::train
