#include "data/labels/shard_writer.h"

#include <filesystem>

#include "common/error.h"

namespace drllm::labels {

namespace fs = std::filesystem;

ShardWriter::ShardWriter(std::string dir, int rank, ShardHeader header, size_t max_rows, double max_seconds)
    : dir_(std::move(dir)), rank_(rank), header_(std::move(header)), max_rows_(max_rows), max_seconds_(max_seconds) {}

void ShardWriter::add(LabelRow row) {
  rows_.push_back(std::move(row));
  double age = std::chrono::duration<double>(Clock::now() - since_).count();
  if (rows_.size() >= max_rows_ || age >= max_seconds_) commit();
}

void ShardWriter::commit() {
  if (!rows_.empty()) write_shard(next_shard_path(dir_, rank_), header_, rows_);
  rows_.clear();
  since_ = Clock::now();
}

std::set<uint32_t> labelled_examples(const std::string& dir, const ShardHeader& header) {
  std::set<uint32_t> done;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".tmp") fs::remove(e.path());
  for (const std::string& path : list_shards(dir)) {
    Shard shard = read_shard(path);
    std::string diff = header_mismatch(header, shard.header);
    DRLLM_CHECK(diff.empty(), path, " was made by ", diff,
                "; use another --out, or the options of that run to resume it");
    for (const LabelRow& r : shard.rows) done.insert(r.example_index);
  }
  return done;
}

}  // namespace drllm::labels
