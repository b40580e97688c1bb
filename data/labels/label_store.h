// The label store: HDF5 shards of search results (docs/architecture.md "Label shard"), one row per example, and the
// manifest that lists them. A shard is written whole to `*.tmp`, fsynced and renamed, so a shard that exists is
// complete; its rows carry a checksum (root attribute `content_sha256`, over a canonical serialisation of every
// row) so that a shard damaged later is detected and named when it is read. The whole file's sha256 is written
// beside it first (`SHARD.sha256`) and checked before HDF5 parses a byte of it: libhdf5 is not robust to
// corrupted files (a flipped bit can crash it), so a damaged shard must be refused before it is opened.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/token_id.h"

namespace drllm::labels {

inline constexpr const char* kLabelFormat = "drllm-labels";
inline constexpr int kLabelFormatVersion = 1;
inline constexpr int kFeatureWindows = 8;  // W of the `features` dataset (router windows, docs/architecture.md)

// What every row of a shard shares; a resumed run refuses shards whose header differs from its own.
struct ShardHeader {
  std::string model_fingerprint;
  std::string dataset;        // the data file's name and task, e.g. "arc_challenge_train.jsonl (arc)"
  std::string search_config;  // JSON text of everything that changes a search's result
  int64_t num_layers = 0;
  int64_t feature_dim = 0;    // d of `features`, 0 when the shard has none
};

// One searched example.
struct LabelRow {
  std::string item_id;
  uint32_t example_index = 0;        // the example's position in the data file (the canonical row order)
  std::vector<uint8_t> labels;       // [L]: 0 skip, 1 execute, 2 repeat along the best plan
  std::vector<int16_t> best_path;    // the paper's path form of the best plan
  uint8_t baseline_correct = 0, best_correct = 0, improved = 0;
  uint32_t num_evaluations = 0;
  std::vector<TokenId> prompt_tokens;
  std::string question, gold, best_response, default_response;
  std::string good_paths;            // JSON list of the correct plans' paths, in the order found
  uint8_t feature_windows = 0;       // windows actually filled (min(8, T)); 0 without features
  std::vector<uint16_t> features;    // [L, 8, d] float16 bits (windows past feature_windows are zero)
  // Where read_label_set found the row (index into LabelSet::shards, row within that shard), so that a reader can
  // stream its features later; not stored.
  struct Origin {
    int32_t shard = -1;
    int64_t row = -1;
  } origin;
};

struct Shard {
  std::string path;
  ShardHeader header;
  std::vector<LabelRow> rows;
};

// Writes rows to `path` through `path.tmp` (fsync, rename). A write error (a full disk) removes the .tmp and
// throws naming the shard; committed shards are untouched.
void write_shard(const std::string& path, const ShardHeader& header, const std::vector<LabelRow>& rows);

// Reads and verifies a shard: the file's sha256 against SHARD.sha256 (or, for a shard written before those
// existed, the folder's manifest.json entry) before it is opened, then format, version, shapes and the rows'
// checksum. Throws naming the file and what is wrong.
// Without features=true the `features` dataset is not read (it is large); `feature_windows` always is.
Shard read_shard(const std::string& path, bool features = false);
// SHARD.sha256
std::string shard_checksum_path(const std::string& shard_path);
// Throws when the folder's manifest.json (if any) is malformed or lists a shard that is not there.
void check_manifest(const std::string& dir);

// The committed shards of a label folder (shard-*.h5, sorted by name); .tmp leftovers are not listed.
std::vector<std::string> list_shards(const std::string& dir);

// "shard-r{rank}-{seq}.h5" with the first seq that no shard of the folder uses for that rank.
std::string next_shard_path(const std::string& dir, int rank);

// Describes how `found` differs from `expected` ("model fingerprint a… vs b…"), empty when they agree.
std::string header_mismatch(const ShardHeader& expected, const ShardHeader& found);

// Rewrites DIR/manifest.json from the shards: file, rows and sha256 of each, and the shared header.
// Verifies every shard on the way and throws naming the first bad one. Returns the number of rows.
int64_t rebuild_manifest(const std::string& dir);

// Reads every shard of a folder (verified), checks they share one header, and returns the rows in example
// order. Throws on a bad shard, mixed headers or an example present twice.
// The sha256 of a header and rows, every field of each row (not the features): a shard's `content_sha256`, and
// the identity of a whole label set (over its rows in example order) that a training checkpoint records.
std::string rows_sha256(const ShardHeader& header, const std::vector<LabelRow>& rows);

struct LabelSet {
  ShardHeader header;
  std::vector<LabelRow> rows;
  std::vector<std::string> shards;
};
LabelSet read_label_set(const std::string& dir, bool features = false);

}  // namespace drllm::labels
