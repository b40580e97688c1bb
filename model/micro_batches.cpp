#include "model/micro_batches.h"

#include <algorithm>
#include <numeric>

namespace drllm::model {

std::vector<std::vector<size_t>> micro_batches(const std::vector<int64_t>& lengths, int most_groups) {
  const int64_t rows = std::accumulate(lengths.begin(), lengths.end(), int64_t{0});
  const int64_t groups = std::max<int64_t>(
      1, std::min({static_cast<int64_t>(most_groups), static_cast<int64_t>(lengths.size()), rows / kMinMicroBatchRows}));
  std::vector<std::vector<size_t>> out(1);
  int64_t taken = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    // Cut before sequence i once the current group holds its share of the rows, if a group is still to come and
    // every later group can still have a sequence.
    const int64_t g = static_cast<int64_t>(out.size());
    const size_t left = lengths.size() - i;
    if (!out.back().empty() && g < groups && taken >= rows * g / groups &&
        left >= static_cast<size_t>(groups - g))
      out.emplace_back();
    out.back().push_back(i);
    taken += lengths[i];
  }
  // A group under the minimum (one long sequence took most rows) joins its neighbour.
  for (size_t g = out.size(); g-- > 1;) {
    int64_t group_rows = 0;
    for (size_t i : out[g]) group_rows += lengths[i];
    int64_t previous_rows = 0;
    for (size_t i : out[g - 1]) previous_rows += lengths[i];
    if (group_rows < kMinMicroBatchRows || previous_rows < kMinMicroBatchRows) {
      out[g - 1].insert(out[g - 1].end(), out[g].begin(), out[g].end());
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(g));
    }
  }
  return out;
}

}  // namespace drllm::model
