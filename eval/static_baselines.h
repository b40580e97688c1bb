// The two fixed cuts the study draws beside the routers, so that a reader sees whether per-input routing beats
// removing the same layers for every input:
//   most skipped  the `cut` layers the search's labels skip most often (ShortGPT's idea, removing the layers that
//                 matter least, with the labels' own skips as the measure); ties go to the later layer, which
//                 ShortGPT and the labels alike find the more redundant
//   random        `cut` layers drawn uniformly without replacement, from a generator seeded by (seed, cut); the
//                 draw is written out here (Fisher-Yates on mt19937_64) so that it is the same on every library
// Both are plans of 0 (skip) and 1 (execute): a fixed cut never repeats.
#pragma once

#include <cstdint>
#include <vector>

#include "model/layer_plan.h"

namespace drllm::eval {

// `skips_per_layer[l]`: how many labelled examples skip layer l. 0 < cut < layers.
model::LayerPlan most_skipped_cut(const std::vector<int64_t>& skips_per_layer, int cut);
model::LayerPlan random_cut(int64_t num_layers, int cut, uint64_t seed);

}  // namespace drllm::eval
