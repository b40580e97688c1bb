#include "data/labels/label_store.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <type_traits>
#include <variant>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/sha256.h"
#include "data/labels/row_hasher.h"
#include "formats/hdf5_file.h"

namespace drllm::labels {
namespace fs = std::filesystem;
namespace {

// The row's fields, in the order they are hashed, written and read: the one description of a row's layout in a
// shard. `labels` is the one fixed-width list ([N, L] uint8); the other lists are variable-length.
using RowMember = std::variant<std::string LabelRow::*, uint32_t LabelRow::*, uint8_t LabelRow::*,
                               std::vector<uint8_t> LabelRow::*, std::vector<int16_t> LabelRow::*,
                               std::vector<int32_t> LabelRow::*>;
struct RowField {
  const char* name;
  RowMember member;
};
const RowField kRowFields[] = {
    {"item_id", &LabelRow::item_id},
    {"example_index", &LabelRow::example_index},
    {"labels", &LabelRow::labels},
    {"best_path", &LabelRow::best_path},
    {"baseline_correct", &LabelRow::baseline_correct},
    {"best_correct", &LabelRow::best_correct},
    {"improved", &LabelRow::improved},
    {"num_evaluations", &LabelRow::num_evaluations},
    {"prompt_tokens", &LabelRow::prompt_tokens},
    {"question", &LabelRow::question},
    {"gold", &LabelRow::gold},
    {"best_response", &LabelRow::best_response},
    {"default_response", &LabelRow::default_response},
    {"good_paths", &LabelRow::good_paths},
};

template <typename T> hid_t hdf5_type();
template <> hid_t hdf5_type<uint8_t>() { return H5T_NATIVE_UINT8; }
template <> hid_t hdf5_type<uint32_t>() { return H5T_NATIVE_UINT32; }
template <> hid_t hdf5_type<int16_t>() { return H5T_NATIVE_INT16; }
template <> hid_t hdf5_type<int32_t>() { return H5T_NATIVE_INT32; }

template <typename T>
std::vector<T> column(const std::vector<LabelRow>& rows, T LabelRow::*member) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (const LabelRow& r : rows) out.push_back(r.*member);
  return out;
}

}  // namespace

std::string rows_sha256(const ShardHeader& h, const std::vector<LabelRow>& rows) {
  RowHasher hash;
  hash.text(h.model_fingerprint);
  hash.text(h.dataset);
  hash.text(h.search_config);
  hash.value(h.num_layers);
  hash.value(h.feature_dim);
  for (const LabelRow& r : rows)
    for (const RowField& field : kRowFields)
      std::visit(
          [&](auto member) {
            using T = std::remove_cvref_t<decltype(r.*member)>;
            if constexpr (std::is_same_v<T, std::string>) hash.text(r.*member);
            else if constexpr (std::is_arithmetic_v<T>) hash.value(r.*member);
            else hash.list(r.*member);
          },
          field.member);
  return hash.hex();
}

namespace {

void write_rows(formats::hdf5::File& f, const std::vector<LabelRow>& rows, hsize_t L) {
  const hsize_t n = rows.size();
  for (const RowField& field : kRowFields)
    std::visit(
        [&](auto member) {
          using T = std::remove_cvref_t<decltype(rows[0].*member)>;
          if constexpr (std::is_same_v<T, std::string>) {
            f.write_strings(field.name, column(rows, member));
          } else if constexpr (std::is_arithmetic_v<T>) {
            std::vector<T> values = column(rows, member);
            f.write_array(field.name, hdf5_type<T>(), {n}, values.data());
          } else if constexpr (std::is_same_v<T, std::vector<uint8_t>>) {  // labels: [N, L]
            std::vector<uint8_t> all;
            for (const LabelRow& r : rows) all.insert(all.end(), (r.*member).begin(), (r.*member).end());
            f.write_array(field.name, H5T_NATIVE_UINT8, {n, L}, all.data());
          } else {
            f.write_lists(field.name, hdf5_type<typename T::value_type>(), column(rows, member));
          }
        },
        field.member);
}

// Fills rows (already sized from item_id) from the shard, checking every dataset's row count and shape.
void read_rows(const formats::hdf5::File& f, std::vector<LabelRow>& rows, size_t L) {
  const size_t n = rows.size();
  for (const RowField& field : kRowFields)
    std::visit(
        [&](auto member) {
          using T = std::remove_cvref_t<decltype(rows[0].*member)>;
          auto check_count = [&](size_t count) {
            DRLLM_CHECK(count == n, f.path(), ": datasets disagree on the number of rows ('", field.name, "' has ",
                        count, ", item_id ", n, ")");
          };
          if constexpr (std::is_same_v<T, std::string>) {
            std::vector<std::string> values = f.read_strings(field.name);
            check_count(values.size());
            for (size_t i = 0; i < n; ++i) rows[i].*member = std::move(values[i]);
          } else if constexpr (std::is_arithmetic_v<T>) {
            DRLLM_CHECK(f.shape(field.name) == std::vector<hsize_t>{n}, f.path(), ": dataset '", field.name,
                        "' has the wrong shape for ", n, " rows of ", L, " layers");
            std::vector<T> values(n);
            f.read_array(field.name, hdf5_type<T>(), values.data());
            for (size_t i = 0; i < n; ++i) rows[i].*member = values[i];
          } else if constexpr (std::is_same_v<T, std::vector<uint8_t>>) {  // labels: [N, L]
            DRLLM_CHECK((f.shape(field.name) == std::vector<hsize_t>{n, L}), f.path(), ": dataset '", field.name,
                        "' has the wrong shape for ", n, " rows of ", L, " layers");
            std::vector<uint8_t> all(n * L);
            f.read_array(field.name, H5T_NATIVE_UINT8, all.data());
            for (size_t i = 0; i < n; ++i)
              (rows[i].*member).assign(all.begin() + static_cast<std::ptrdiff_t>(i * L),
                                       all.begin() + static_cast<std::ptrdiff_t>((i + 1) * L));
          } else {
            auto lists = f.read_lists<typename T::value_type>(field.name, hdf5_type<typename T::value_type>());
            check_count(lists.size());
            for (size_t i = 0; i < n; ++i) rows[i].*member = std::move(lists[i]);
          }
        },
        field.member);
}

std::string features_checksum(const std::vector<LabelRow>& rows) {
  RowHasher hash;
  for (const LabelRow& r : rows) {
    hash.value(r.feature_windows);
    hash.list(r.features);
  }
  return hash.hex();
}

// At most 9 digits each: a longer name is no shard of ours, and would overflow std::stoi.
const std::regex kShardName(R"(shard-r(\d{1,9})-(\d{1,9})\.h5)");

}  // namespace

void write_shard(const std::string& path, const ShardHeader& header, const std::vector<LabelRow>& rows) {
  DRLLM_CHECK(!rows.empty(), path, ": a shard needs at least one row");
  const hsize_t n = rows.size(), L = static_cast<hsize_t>(header.num_layers);
  for (const LabelRow& r : rows) {
    DRLLM_CHECK(r.labels.size() == L, path, ": row ", r.item_id, " has ", r.labels.size(), " labels, expected ", L);
    for (uint8_t label : r.labels)
      DRLLM_CHECK(label <= 2, path, ": row ", r.item_id, " has label ", int(label), "; labels are 0, 1 or 2");
    if (header.feature_dim)
      DRLLM_CHECK(r.features.size() == L * kFeatureWindows * header.feature_dim, path, ": row ", r.item_id,
                  " has ", r.features.size(), " feature values, expected ",
                  L * kFeatureWindows * header.feature_dim);
  }
  const std::string tmp = path + ".tmp";
  try {
    formats::hdf5::File f = formats::hdf5::File::create(tmp);
    f.set_attribute("format", std::string(kLabelFormat));
    f.set_attribute("format_version", static_cast<int64_t>(kLabelFormatVersion));
    f.set_attribute("model_fingerprint", header.model_fingerprint);
    f.set_attribute("dataset", header.dataset);
    f.set_attribute("search_config", header.search_config);
    f.set_attribute("num_layers", header.num_layers);
    f.set_attribute("content_sha256", rows_sha256(header, rows));

    write_rows(f, rows, L);
    if (header.feature_dim) {
      const hsize_t d = static_cast<hsize_t>(header.feature_dim), W = kFeatureWindows;
      f.set_attribute("features_sha256", features_checksum(rows));
      std::vector<uint8_t> windows = column(rows, &LabelRow::feature_windows);
      f.write_array("feature_windows", H5T_NATIVE_UINT8, {n}, windows.data());
      std::vector<uint16_t> features;
      features.reserve(n * L * W * d);
      for (const LabelRow& r : rows) features.insert(features.end(), r.features.begin(), r.features.end());
      f.write_array("features", formats::hdf5::float16_type(), {n, L, W, d}, features.data());
    }
    f.close();
    // The file's hash beside it before the shard gets its name: a shard that exists always has one.
    const std::string hash = sha256_file_hex(tmp);
    write_file_atomically(shard_checksum_path(path), [&](std::ostream& out) { out << hash << "\n"; });
  } catch (const Error& e) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw Error(cat("label shard ", path, " not written: ", e.what()));
  }
  commit_file(tmp, path);
}

std::string shard_checksum_path(const std::string& shard_path) { return shard_path + ".sha256"; }

namespace {

// The sha256 the shard should have: its .sha256 file, else its manifest entry, else "".
std::string expected_file_sha256(const std::string& path) {
  const std::string sidecar = shard_checksum_path(path);
  if (fs::exists(sidecar)) {
    std::ifstream in(sidecar);
    std::string hash;
    in >> hash;
    DRLLM_CHECK(hash.size() == 64 && hash.find_first_not_of("0123456789abcdef") == std::string::npos, sidecar,
                ": not a sha256 (64 hex digits); delete the shard and this file to search its examples again");
    return hash;
  }
  const fs::path manifest = fs::path(path).parent_path() / "manifest.json";
  std::ifstream in(manifest);
  if (!in) return "";
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("shards") || !j["shards"].is_array()) return "";
  for (const nlohmann::json& s : j["shards"])
    if (s.is_object() && s.value("file", "") == fs::path(path).filename().string() && s.contains("sha256") &&
        s["sha256"].is_string())
      return s["sha256"].get<std::string>();
  return "";
}

}  // namespace

Shard read_shard(const std::string& path, bool features) {
  Shard shard;
  shard.path = path;
  DRLLM_CHECK(fs::is_regular_file(path), path, ": not a regular file; a label shard is a file this job wrote");
  // HDF5 is no parser for hostile bytes (a flipped bit can crash it): a shard is opened only once its bytes are
  // the ones written. Every shard has its hash beside it before it gets its name, so one without is not ours.
  const std::string want_file = expected_file_sha256(path);
  DRLLM_CHECK(!want_file.empty(), path, ": no checksum (", shard_checksum_path(path), " is absent and manifest.json does ",
              "not list the shard): not a shard drllm wrote, or its checksum was deleted; it was not opened");
  const std::string got_file = sha256_file_hex(path);
  DRLLM_CHECK(got_file == want_file, path, ": checksum mismatch: the file hashes to ", got_file.substr(0, 12), "…, ",
              fs::exists(shard_checksum_path(path)) ? shard_checksum_path(path) : std::string("manifest.json"),
              " says ", want_file.substr(0, 12), "…; the shard is corrupted (it was not opened); delete it to search "
              "its examples again");
  formats::hdf5::File f = formats::hdf5::File::open_read(path);
  const std::string format = f.string_attribute("format");
  DRLLM_CHECK(format == kLabelFormat, path, ": not a drllm label shard (format '", format, "')");
  const int64_t version = f.int_attribute("format_version");
  DRLLM_CHECK(version == kLabelFormatVersion, path, ": label format version ", version, ", this drllm reads ",
              kLabelFormatVersion);
  ShardHeader& h = shard.header;
  h.model_fingerprint = f.string_attribute("model_fingerprint");
  h.dataset = f.string_attribute("dataset");
  h.search_config = f.string_attribute("search_config");
  h.num_layers = f.int_attribute("num_layers");
  DRLLM_CHECK(h.num_layers > 0 && h.num_layers < 4096, path, ": bad num_layers ", h.num_layers);

  const std::vector<hsize_t> ids = f.shape("item_id");
  DRLLM_CHECK(ids.size() == 1, path, ": dataset 'item_id' is not a list");
  const size_t n = static_cast<size_t>(ids[0]);
  const size_t L = static_cast<size_t>(h.num_layers);
  shard.rows.resize(n);
  read_rows(f, shard.rows, L);
  // Values a reader indexes with, checked before anything counts by them (a shard whose checksum was forged
  // along with its labels must still not corrupt a histogram or a training batch).
  for (const LabelRow& r : shard.rows) {
    for (size_t l = 0; l < L; ++l)
      DRLLM_CHECK(r.labels[l] <= 2, path, ": example ", r.item_id, " has label ", int(r.labels[l]), " at layer ", l,
                  "; labels are 0, 1 or 2");
    for (int16_t layer : r.best_path)
      DRLLM_CHECK(layer >= 0 && static_cast<size_t>(layer) < L, path, ": example ", r.item_id,
                  " has layer ", layer, " in best_path; the model has ", L, " layers");
  }
  if (f.has("features")) {
    std::vector<hsize_t> dims = f.shape("features");
    DRLLM_CHECK(dims.size() == 4 && dims[0] == n && dims[1] == L && dims[2] == kFeatureWindows, path,
                ": dataset 'features' has the wrong shape");
    h.feature_dim = static_cast<int64_t>(dims[3]);
    // The windows are small, and a reader that streams the features later (ShardFeatures) needs them.
    DRLLM_CHECK(f.shape("feature_windows") == std::vector<hsize_t>{n}, path,
                ": dataset 'feature_windows' has the wrong shape for ", n, " rows");
    std::vector<uint8_t> windows(n);
    f.read_array("feature_windows", H5T_NATIVE_UINT8, windows.data());
    for (size_t i = 0; i < n; ++i) {
      DRLLM_CHECK(windows[i] >= 1 && windows[i] <= kFeatureWindows, path, ": row ", i, " (", shard.rows[i].item_id,
                  ") has ", int(windows[i]), " feature windows; 1 to ", kFeatureWindows, " are filled");
      shard.rows[i].feature_windows = windows[i];
    }
  }
  const std::string want = f.string_attribute("content_sha256");
  const std::string got = rows_sha256(h, shard.rows);
  DRLLM_CHECK(want == got, path, ": checksum mismatch: the shard is corrupted (rows hash to ", got.substr(0, 12),
              "…, the shard says ", want.substr(0, 12), "…); delete it to search its examples again");
  if (features && h.feature_dim) {
    const size_t per_row = L * kFeatureWindows * static_cast<size_t>(h.feature_dim);
    std::vector<uint16_t> all(n * per_row);
    f.read_array("features", formats::hdf5::float16_type(), all.data());
    for (size_t i = 0; i < n; ++i) {
      shard.rows[i].features.assign(all.begin() + static_cast<std::ptrdiff_t>(i * per_row),
                                    all.begin() + static_cast<std::ptrdiff_t>((i + 1) * per_row));
    }
    DRLLM_CHECK(f.string_attribute("features_sha256") == features_checksum(shard.rows), path,
                ": checksum mismatch in 'features': the shard is corrupted; delete it to search its examples again");
    // float16 with every exponent bit set is Inf or NaN: router inputs that would train NaN routers.
    const auto bad = std::find_if(all.begin(), all.end(), [](uint16_t v) { return (v & 0x7c00) == 0x7c00; });
    if (bad != all.end()) {
      const size_t at = static_cast<size_t>(bad - all.begin()), row = at / per_row;
      throw Error(cat(path, ": row ", row, " (", shard.rows[row].item_id, "), layer ",
                      (at % per_row) / (kFeatureWindows * static_cast<size_t>(h.feature_dim)),
                      ": router features hold Inf or NaN (float16 overflow of the hidden states?); delete the shard ",
                      "to search its examples again"));
    }
  }
  return shard;
}

std::vector<std::string> list_shards(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) return out;
  // Every entry with a shard's name, whatever it is: read_shard refuses one that is not a regular file (a
  // directory, a FIFO or a device in a shard's place is an error, never silently skipped).
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (std::regex_match(e.path().filename().string(), kShardName)) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

void check_manifest(const std::string& dir) {
  const fs::path path = fs::path(dir) / "manifest.json";
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  DRLLM_CHECK(j.is_object() && j.contains("shards") && j["shards"].is_array(), path.string(),
              ": not a label manifest (expected an object with a \"shards\" list)");
  for (const nlohmann::json& s : j["shards"]) {
    DRLLM_CHECK(s.is_object() && s.contains("file") && s["file"].is_string(), path.string(),
                ": a \"shards\" entry without a \"file\" name");
    const std::string file = s["file"].get<std::string>();
    DRLLM_CHECK(std::regex_match(file, kShardName), path.string(), ": lists '", file, "', which is not a shard's name");
    DRLLM_CHECK(fs::exists(fs::path(dir) / file), path.string(), ": lists ", file, ", which is missing from ", dir,
                " (its examples are not in the folder; rerun the search to label them again)");
  }
}

std::string next_shard_path(const std::string& dir, int rank) {
  int next = 0;
  for (const std::string& p : list_shards(dir)) {
    std::smatch m;
    std::string name = fs::path(p).filename().string();
    if (std::regex_match(name, m, kShardName) && std::stoi(m[1]) == rank) next = std::max(next, std::stoi(m[2]) + 1);
  }
  char name[64];
  std::snprintf(name, sizeof name, "shard-r%05d-%06d.h5", rank, next);
  return (fs::path(dir) / name).string();
}

std::string header_mismatch(const ShardHeader& expected, const ShardHeader& found) {
  if (expected.model_fingerprint != found.model_fingerprint)
    return cat("another model (fingerprint ", found.model_fingerprint.substr(0, 16), "…, this run's is ",
               expected.model_fingerprint.substr(0, 16), "…)");
  if (expected.num_layers != found.num_layers)
    return cat("another layer count (", found.num_layers, " vs ", expected.num_layers, ")");
  if (expected.dataset != found.dataset) return cat("another dataset ('", found.dataset, "' vs '", expected.dataset, "')");
  if (expected.search_config != found.search_config)
    return cat("another search configuration (", found.search_config, " vs this run's ", expected.search_config, ")");
  if (expected.feature_dim != found.feature_dim)
    return cat(found.feature_dim ? "router features" : "no router features", " (this run ",
               expected.feature_dim ? "saves" : "does not save", " them)");
  return "";
}

LabelSet read_label_set(const std::string& dir, bool features) {
  LabelSet set;
  set.shards = list_shards(dir);
  DRLLM_CHECK(!set.shards.empty(), dir, ": no label shards (shard-*.h5)");
  std::map<std::string, std::string> seen;  // item id -> shard
  for (const std::string& path : set.shards) {
    Shard shard = read_shard(path, features);
    if (path == set.shards.front()) set.header = shard.header;
    std::string diff = header_mismatch(set.header, shard.header);
    DRLLM_CHECK(diff.empty(), path, ": differs from ", set.shards.front(), ": ", diff);
    for (size_t i = 0; i < shard.rows.size(); ++i) {
      LabelRow& r = shard.rows[i];
      r.origin = {static_cast<int32_t>(&path - set.shards.data()), static_cast<int64_t>(i)};
      auto [it, fresh] = seen.emplace(r.item_id, path);
      DRLLM_CHECK(fresh, "example '", r.item_id, "' is in two shards: ", it->second, " and ", path);
      set.rows.push_back(std::move(r));
    }
  }
  std::stable_sort(set.rows.begin(), set.rows.end(),
                   [](const LabelRow& a, const LabelRow& b) { return a.example_index < b.example_index; });
  return set;
}

int64_t rebuild_manifest(const std::string& dir) {
  nlohmann::json shards = nlohmann::json::array();
  int64_t rows = 0;
  ShardHeader header;
  for (const std::string& path : list_shards(dir)) {
    Shard shard = read_shard(path);
    if (shards.empty()) header = shard.header;
    std::string diff = header_mismatch(header, shard.header);
    DRLLM_CHECK(diff.empty(), path, ": differs from the other shards: ", diff);
    rows += static_cast<int64_t>(shard.rows.size());
    shards.push_back({{"file", fs::path(path).filename().string()},
                      {"rows", shard.rows.size()},
                      {"sha256", sha256_file_hex(path)}});
  }
  nlohmann::json manifest = {{"format", kLabelFormat},
                             {"format_version", kLabelFormatVersion},
                             {"model_fingerprint", header.model_fingerprint},
                             {"dataset", header.dataset},
                             {"search_config", header.search_config},
                             {"num_layers", header.num_layers},
                             {"rows", rows},
                             {"shards", shards}};
  write_file_atomically((fs::path(dir) / "manifest.json").string(),
                        [&](std::ostream& out) { out << manifest.dump(2) << "\n"; });
  return rows;
}

}  // namespace drllm::labels
