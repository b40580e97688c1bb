// Random access to the router features of a label shard, a row at a time, for training that streams them instead
// of holding every example's inputs in memory (docs/architecture.md "Streamed router features").
//
// Opening a shard checks its `features` dataset against the shard's `features_sha256` in one pass of bounded
// memory, so the rows read later are the rows the search wrote; every row read is also refused when it holds Inf
// or NaN. The file is opened once and kept open. Reads from several threads are serialised (libhdf5 is not
// thread-safe as Debian builds it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace drllm::labels {

class ShardFeatures {
 public:
  // `path` must have been read by read_shard (which checked the whole file's sha256 before HDF5 opened it).
  explicit ShardFeatures(const std::string& path);
  ~ShardFeatures();
  ShardFeatures(const ShardFeatures&) = delete;
  ShardFeatures& operator=(const ShardFeatures&) = delete;

  int64_t rows() const;
  int64_t layers() const;
  int64_t dim() const;
  int64_t row_values() const;  // L * 8 * d
  // Row `row`'s [L, 8, d] float16 bits into `out` (row_values() of them).
  void read(int64_t row, uint16_t* out) const;

 private:
  struct Open;
  std::unique_ptr<Open> open_;
};

}  // namespace drllm::labels
