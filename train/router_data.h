// The routers' training data: for each labelled example, the router inputs along its labelled plan (teacher
// forcing: router l sees the hidden state entering layer l when the earlier layers ran as labelled) and the
// labels. Two sources of the inputs, equal by construction:
//   cached  the float16 window means the search saved (--save-features); no backbone needed
//   online  the backbone runs each prompt along its labelled plan here; the window means are rounded to
//           float16 exactly as the search stores them, so both sources give the same routers
// Cached inputs are held in memory, or streamed: left in the shards and read per batch (FeatureRows).
#pragma once

#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/labels/label_store.h"
#include "model/backbone.h"
#include "train/feature_rows.h"

namespace drllm::train {

struct RouterData {
  FeatureRows inputs;  // [N, L, W, d] float16, in memory or in the label shards
  at::Tensor windows;  // [N] int64: windows filled per example
  at::Tensor labels;   // [N, L] int64
  std::vector<std::string> item_ids;

  int64_t size() const { return labels.size(0); }
  std::array<int64_t, 3> label_counts() const;
  RouterData subset(const std::vector<int64_t>& rows) const;
};

// The search's saved inputs of `labels` (as read_label_set returns them; their own features are not used): left in
// the shards and read per batch when `stream`, else read into memory once (one copy, checked as it is read).
RouterData cached_router_data(const labels::LabelSet& labels, bool stream);
// Several label sets' data as one (same layer count and width).
RouterData concatenate(const std::vector<RouterData>& parts);
RouterData online_router_data(const labels::LabelSet& labels, model::Backbone& backbone);

// Every `holdout_every`-th example (by example order) is held out for the metrics; 0: none.
void split_holdout(int64_t n, int64_t holdout_every, std::vector<int64_t>& train, std::vector<int64_t>& held_out);

}  // namespace drllm::train
