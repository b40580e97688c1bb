#include "data/labels/label_store.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/sha256.h"
#include "formats/hdf5_file.h"

namespace drllm::labels {
namespace fs = std::filesystem;
namespace {

// Length-prefixed fields, so that no two different rows serialise alike.
class RowHasher {
 public:
  void bytes(const void* data, size_t size) {
    uint64_t n = size;
    hash_.update(std::string_view(reinterpret_cast<const char*>(&n), sizeof n));
    hash_.update(std::string_view(static_cast<const char*>(data), size));
  }
  void text(const std::string& s) { bytes(s.data(), s.size()); }
  template <typename T>
  void list(const std::vector<T>& v) { bytes(v.data(), v.size() * sizeof(T)); }
  template <typename T>
  void value(T v) { bytes(&v, sizeof v); }
  std::string hex() { return hash_.hex_digest(); }

 private:
  Sha256 hash_;
};

std::string content_checksum(const ShardHeader& h, const std::vector<LabelRow>& rows) {
  RowHasher hash;
  hash.text(h.model_fingerprint);
  hash.text(h.dataset);
  hash.text(h.search_config);
  hash.value(h.num_layers);
  hash.value(h.feature_dim);
  for (const LabelRow& r : rows) {
    hash.text(r.item_id);
    hash.value(r.example_index);
    hash.list(r.labels);
    hash.list(r.best_path);
    hash.value(r.baseline_correct);
    hash.value(r.best_correct);
    hash.value(r.improved);
    hash.value(r.num_evaluations);
    hash.list(r.prompt_tokens);
    for (const std::string* s : {&r.question, &r.gold, &r.best_response, &r.default_response, &r.good_paths})
      hash.text(*s);
  }
  return hash.hex();
}

std::string features_checksum(const std::vector<LabelRow>& rows) {
  RowHasher hash;
  for (const LabelRow& r : rows) {
    hash.value(r.feature_windows);
    hash.list(r.features);
  }
  return hash.hex();
}

template <typename T, typename Field>
std::vector<T> column(const std::vector<LabelRow>& rows, Field field) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (const LabelRow& r : rows) out.push_back(field(r));
  return out;
}

const std::regex kShardName(R"(shard-r(\d+)-(\d+)\.h5)");

}  // namespace

void write_shard(const std::string& path, const ShardHeader& header, const std::vector<LabelRow>& rows) {
  DRLLM_CHECK(!rows.empty(), path, ": a shard needs at least one row");
  const hsize_t n = rows.size(), L = static_cast<hsize_t>(header.num_layers);
  for (const LabelRow& r : rows) {
    DRLLM_CHECK(r.labels.size() == L, path, ": row ", r.item_id, " has ", r.labels.size(), " labels, expected ", L);
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
    f.set_attribute("content_sha256", content_checksum(header, rows));

    f.write_strings("item_id", column<std::string>(rows, [](const LabelRow& r) { return r.item_id; }));
    auto index = column<uint32_t>(rows, [](const LabelRow& r) { return r.example_index; });
    f.write_array("example_index", H5T_NATIVE_UINT32, {n}, index.data());
    std::vector<uint8_t> labels;
    for (const LabelRow& r : rows) labels.insert(labels.end(), r.labels.begin(), r.labels.end());
    f.write_array("labels", H5T_NATIVE_UINT8, {n, L}, labels.data());
    f.write_lists("best_path", H5T_NATIVE_INT16,
                  column<std::vector<int16_t>>(rows, [](const LabelRow& r) { return r.best_path; }));
    auto baseline = column<uint8_t>(rows, [](const LabelRow& r) { return r.baseline_correct; });
    auto best = column<uint8_t>(rows, [](const LabelRow& r) { return r.best_correct; });
    auto improved = column<uint8_t>(rows, [](const LabelRow& r) { return r.improved; });
    auto evaluations = column<uint32_t>(rows, [](const LabelRow& r) { return r.num_evaluations; });
    f.write_array("baseline_correct", H5T_NATIVE_UINT8, {n}, baseline.data());
    f.write_array("best_correct", H5T_NATIVE_UINT8, {n}, best.data());
    f.write_array("improved", H5T_NATIVE_UINT8, {n}, improved.data());
    f.write_array("num_evaluations", H5T_NATIVE_UINT32, {n}, evaluations.data());
    f.write_lists("prompt_tokens", H5T_NATIVE_INT32,
                  column<std::vector<int32_t>>(rows, [](const LabelRow& r) { return r.prompt_tokens; }));
    f.write_strings("question", column<std::string>(rows, [](const LabelRow& r) { return r.question; }));
    f.write_strings("gold", column<std::string>(rows, [](const LabelRow& r) { return r.gold; }));
    f.write_strings("best_response", column<std::string>(rows, [](const LabelRow& r) { return r.best_response; }));
    f.write_strings("default_response",
                    column<std::string>(rows, [](const LabelRow& r) { return r.default_response; }));
    f.write_strings("good_paths", column<std::string>(rows, [](const LabelRow& r) { return r.good_paths; }));
    if (header.feature_dim) {
      const hsize_t d = static_cast<hsize_t>(header.feature_dim), W = kFeatureWindows;
      f.set_attribute("features_sha256", features_checksum(rows));
      auto windows = column<uint8_t>(rows, [](const LabelRow& r) { return r.feature_windows; });
      f.write_array("feature_windows", H5T_NATIVE_UINT8, {n}, windows.data());
      std::vector<uint16_t> features;
      features.reserve(n * L * W * d);
      for (const LabelRow& r : rows) features.insert(features.end(), r.features.begin(), r.features.end());
      f.write_array("features", formats::hdf5::float16_type(), {n, L, W, d}, features.data());
    }
    f.close();
  } catch (const Error& e) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw Error(cat("label shard ", path, " not written: ", e.what()));
  }
  commit_file(tmp, path);
}

Shard read_shard(const std::string& path, bool features) {
  Shard shard;
  shard.path = path;
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

  std::vector<std::string> ids = f.read_strings("item_id");
  const size_t n = ids.size();
  const size_t L = static_cast<size_t>(h.num_layers);
  auto expect_shape = [&](const std::string& name, std::vector<hsize_t> want) {
    std::vector<hsize_t> got = f.shape(name);
    DRLLM_CHECK(got == want, path, ": dataset '", name, "' has the wrong shape for ", n, " rows of ", L, " layers");
  };
  for (const char* name : {"example_index", "baseline_correct", "best_correct", "improved", "num_evaluations"})
    expect_shape(name, {n});
  expect_shape("labels", {n, L});
  std::vector<uint32_t> index(n), evaluations(n);
  std::vector<uint8_t> labels(n * L), baseline(n), best(n), improved(n);
  f.read_array("example_index", H5T_NATIVE_UINT32, index.data());
  f.read_array("labels", H5T_NATIVE_UINT8, labels.data());
  f.read_array("baseline_correct", H5T_NATIVE_UINT8, baseline.data());
  f.read_array("best_correct", H5T_NATIVE_UINT8, best.data());
  f.read_array("improved", H5T_NATIVE_UINT8, improved.data());
  f.read_array("num_evaluations", H5T_NATIVE_UINT32, evaluations.data());
  auto paths = f.read_lists<int16_t>("best_path", H5T_NATIVE_INT16);
  auto prompts = f.read_lists<int32_t>("prompt_tokens", H5T_NATIVE_INT32);
  auto questions = f.read_strings("question"), golds = f.read_strings("gold");
  auto best_responses = f.read_strings("best_response"), default_responses = f.read_strings("default_response");
  auto good_paths = f.read_strings("good_paths");
  for (size_t count : {paths.size(), prompts.size(), questions.size(), golds.size(), best_responses.size(),
                       default_responses.size(), good_paths.size()})
    DRLLM_CHECK(count == n, path, ": datasets disagree on the number of rows (", count, " vs ", n, ")");

  shard.rows.resize(n);
  for (size_t i = 0; i < n; ++i) {
    LabelRow& r = shard.rows[i];
    r.item_id = ids[i];
    r.example_index = index[i];
    r.labels.assign(labels.begin() + static_cast<std::ptrdiff_t>(i * L),
                    labels.begin() + static_cast<std::ptrdiff_t>((i + 1) * L));
    r.best_path = std::move(paths[i]);
    r.baseline_correct = baseline[i];
    r.best_correct = best[i];
    r.improved = improved[i];
    r.num_evaluations = evaluations[i];
    r.prompt_tokens = std::move(prompts[i]);
    r.question = std::move(questions[i]);
    r.gold = std::move(golds[i]);
    r.best_response = std::move(best_responses[i]);
    r.default_response = std::move(default_responses[i]);
    r.good_paths = std::move(good_paths[i]);
  }
  if (f.has("features")) {
    std::vector<hsize_t> dims = f.shape("features");
    DRLLM_CHECK(dims.size() == 4 && dims[0] == n && dims[1] == L && dims[2] == kFeatureWindows, path,
                ": dataset 'features' has the wrong shape");
    h.feature_dim = static_cast<int64_t>(dims[3]);
  }
  const std::string want = f.string_attribute("content_sha256");
  const std::string got = content_checksum(h, shard.rows);
  DRLLM_CHECK(want == got, path, ": checksum mismatch: the shard is corrupted (rows hash to ", got.substr(0, 12),
              "…, the shard says ", want.substr(0, 12), "…); delete it to search its examples again");
  if (features && h.feature_dim) {
    const size_t per_row = L * kFeatureWindows * static_cast<size_t>(h.feature_dim);
    std::vector<uint16_t> all(n * per_row);
    std::vector<uint8_t> windows(n);
    f.read_array("features", formats::hdf5::float16_type(), all.data());
    f.read_array("feature_windows", H5T_NATIVE_UINT8, windows.data());
    for (size_t i = 0; i < n; ++i) {
      shard.rows[i].feature_windows = windows[i];
      shard.rows[i].features.assign(all.begin() + static_cast<std::ptrdiff_t>(i * per_row),
                                    all.begin() + static_cast<std::ptrdiff_t>((i + 1) * per_row));
    }
    DRLLM_CHECK(f.string_attribute("features_sha256") == features_checksum(shard.rows), path,
                ": checksum mismatch in 'features': the shard is corrupted; delete it to search its examples again");
  }
  return shard;
}

std::vector<std::string> list_shards(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) return out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && std::regex_match(e.path().filename().string(), kShardName))
      out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
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
    for (LabelRow& r : shard.rows) {
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
