// FeatureRows: the router inputs of N examples ([N, L, W, d] float16), held in memory or left in the label shards
// and read a row at a time when a batch needs them (docs/architecture.md "Streamed router features"). Both give
// the same values, so training gives the same routers bit for bit either way; only the memory differs.
// Subsets and concatenations only re-index: no row is copied until gather() asks for it.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "data/labels/label_store.h"

namespace drllm::train {

class FeatureRows {
 public:
  FeatureRows() = default;
  static FeatureRows in_memory(at::Tensor inputs);  // [N, L, W, d] float16 on the CPU
  // The rows of `set` (read without features), in its order, from its shards; opening each shard checks its
  // features' checksum (labels::ShardFeatures).
  static FeatureRows in_shards(const labels::LabelSet& set);
  static FeatureRows concatenate(const std::vector<FeatureRows>& parts);

  int64_t size() const { return static_cast<int64_t>(where_.size()); }
  int64_t layers() const { return layers_; }
  int64_t windows() const { return windows_; }
  int64_t dim() const { return dim_; }
  int64_t row_bytes() const { return layers_ * windows_ * dim_ * 2; }
  bool streamed() const;  // some rows are read from shards

  FeatureRows subset(const std::vector<int64_t>& rows) const;
  // Every row read into one tensor: the same rows, no longer read from the shards.
  FeatureRows held_in_memory() const;
  // Rows `rows`, in that order: [rows.size(), L, W, d] float16 on the CPU. Safe to call from a second thread
  // while the first computes (the shards' reads are serialised).
  at::Tensor gather(const std::vector<int64_t>& rows) const;

 private:
  struct Source;  // a tensor of rows, or one shard's features
  struct Where {
    int32_t source;
    int64_t row;
  };
  std::vector<std::shared_ptr<const Source>> sources_;
  std::vector<Where> where_;
  int64_t layers_ = 0, windows_ = 0, dim_ = 0;
};

}  // namespace drllm::train
