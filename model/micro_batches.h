// Micro-batches of a forward call on a backbone split into pipeline stages (docs/pipeline-stages.md): the
// driver splits the call's sequences into groups and sends each group on as soon as its own layers are done, so
// that while a later stage runs one group the driver runs the next (GPipe's schedule, within the call).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace drllm::model {

// A group needs this many new tokens (rows) at least. Below it a block reads its weights for few rows (a decode
// step: memory-bound), so two groups would read every weight twice for little compute, and one group is faster.
inline constexpr int64_t kMinMicroBatchRows = 16;

// The sequences (their new-token counts, in order) in at most `most_groups` contiguous groups of about equal rows,
// each of at least kMinMicroBatchRows rows; one group when that cannot be. Indices into `lengths`.
std::vector<std::vector<size_t>> micro_batches(const std::vector<int64_t>& lengths, int most_groups);

}  // namespace drllm::model
