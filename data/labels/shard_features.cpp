#include "data/labels/shard_features.h"

#include <mutex>
#include <vector>

#include "common/error.h"
#include "data/labels/label_store.h"
#include "data/labels/row_hasher.h"
#include "formats/hdf5_file.h"

namespace drllm::labels {
namespace {

// One lock for every HDF5 call made here: the prefetch thread and the main thread may both read.
std::mutex& hdf5_lock() {
  static std::mutex lock;
  return lock;
}

// The first value that is Inf or NaN (float16 with every exponent bit set), or -1.
int64_t first_inf_or_nan(const uint16_t* values, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if ((values[i] & 0x7c00) == 0x7c00) return i;
  return -1;
}

}  // namespace

struct ShardFeatures::Open {
  formats::hdf5::File file;
  int64_t rows = 0, layers = 0, dim = 0;
};

ShardFeatures::ShardFeatures(const std::string& path) {
  std::lock_guard<std::mutex> guard(hdf5_lock());
  open_ = std::make_unique<Open>(Open{formats::hdf5::File::open_read(path)});
  formats::hdf5::File& f = open_->file;
  DRLLM_CHECK(f.has("features") && f.has("feature_windows"), path, ": the shard has no router features");
  const std::vector<hsize_t> dims = f.shape("features");
  DRLLM_CHECK(dims.size() == 4 && dims[0] > 0 && dims[2] == static_cast<hsize_t>(kFeatureWindows) && dims[3] > 0, path,
              ": dataset 'features' has the wrong shape");
  DRLLM_CHECK(f.shape("feature_windows") == std::vector<hsize_t>{dims[0]}, path,
              ": datasets 'features' and 'feature_windows' disagree on the number of rows");
  open_->rows = static_cast<int64_t>(dims[0]);
  open_->layers = static_cast<int64_t>(dims[1]);
  open_->dim = static_cast<int64_t>(dims[3]);
  // The check read_shard makes on the whole dataset, one row at a time: the same hash, in bounded memory.
  std::vector<uint8_t> windows(static_cast<size_t>(open_->rows));
  f.read_array("feature_windows", H5T_NATIVE_UINT8, windows.data());
  RowHasher hash;
  std::vector<uint16_t> row(static_cast<size_t>(row_values()));
  for (int64_t r = 0; r < open_->rows; ++r) {
    f.read_rows("features", formats::hdf5::float16_type(), static_cast<hsize_t>(r), 1, row.data());
    hash.value(windows[static_cast<size_t>(r)]);
    hash.list(row);
  }
  DRLLM_CHECK(f.string_attribute("features_sha256") == hash.hex(), path,
              ": checksum mismatch in 'features': the shard is corrupted; delete it to search its examples again");
}

ShardFeatures::~ShardFeatures() {
  std::lock_guard<std::mutex> guard(hdf5_lock());
  open_.reset();
}

int64_t ShardFeatures::rows() const { return open_->rows; }
int64_t ShardFeatures::layers() const { return open_->layers; }
int64_t ShardFeatures::dim() const { return open_->dim; }
int64_t ShardFeatures::row_values() const { return open_->layers * kFeatureWindows * open_->dim; }

void ShardFeatures::read(int64_t row, uint16_t* out) const {
  DRLLM_CHECK(row >= 0 && row < open_->rows, open_->file.path(), ": row ", row, " asked of ", open_->rows);
  {
    std::lock_guard<std::mutex> guard(hdf5_lock());
    open_->file.read_rows("features", formats::hdf5::float16_type(), static_cast<hsize_t>(row), 1, out);
  }
  const int64_t bad = first_inf_or_nan(out, row_values());
  DRLLM_CHECK(bad < 0, open_->file.path(), ": row ", row, ", layer ", bad / (kFeatureWindows * open_->dim),
              ": router features hold Inf or NaN (float16 overflow of the hidden states?); delete the shard to "
              "search its examples again");
}

}  // namespace drllm::labels
