// Writing a label folder from one rank: the rows it has labelled and not yet committed, committed as a shard of
// their own (write-then-rename, data/labels/label_store.h) every `max_rows` rows or `max_seconds`, and whatever is
// left at the end. Before any rank writes, rank 0 scans the folder (labelled_examples) to resume.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "data/labels/label_store.h"

namespace drllm::labels {

class ShardWriter {
 public:
  ShardWriter(std::string dir, int rank, ShardHeader header, size_t max_rows, double max_seconds);

  void add(LabelRow row);  // commits once the rows or the time are reached
  void commit();           // writes what is buffered (nothing when empty)

 private:
  using Clock = std::chrono::steady_clock;
  std::string dir_;
  int rank_;
  ShardHeader header_;
  size_t max_rows_;
  double max_seconds_;
  std::vector<LabelRow> rows_;
  Clock::time_point since_ = Clock::now();
};

// The example indices a folder already holds. Removes the .tmp files that killed runs left, verifies every shard
// (a damaged one is named) and refuses shards of another model or search configuration (`header` is this run's).
std::set<uint32_t> labelled_examples(const std::string& dir, const ShardHeader& header);

}  // namespace drllm::labels
