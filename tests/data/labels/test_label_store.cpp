// The label store on its own: shards written and read back field by field, a flipped byte named by the shard's
// checksum, shards of another run refused by name, the resume scan and the official JSON round trip.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <sys/stat.h>

#include "common/error.h"
#include "data/labels/label_store.h"
#include "data/labels/official_json.h"
#include "data/labels/shard_writer.h"

namespace drllm::labels {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  std::string dir = (fs::temp_directory_path() / ("drllm-test-labels-" + name)).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

ShardHeader header(int64_t layers = 4) {
  ShardHeader h;
  h.model_fingerprint = "ab12";
  h.dataset = "toy.jsonl sha256:0000";
  h.search_config = R"({"task":"arc"})";
  h.num_layers = layers;
  return h;
}

LabelRow row(uint32_t index) {
  LabelRow r;
  r.item_id = "item-" + std::to_string(index);
  r.example_index = index;
  r.labels = {1, 0, 2, 1};
  r.best_path = {0, 2, 2, 3};
  r.baseline_correct = 0;
  r.best_correct = 1;
  r.improved = 1;
  r.num_evaluations = 7 + index;
  r.prompt_tokens = {5, 6, 7};
  r.question = "Q" + std::to_string(index) + " é";
  r.gold = "B";
  r.best_response = "Answer: B";
  r.default_response = "A. cats";
  r.good_paths = "[[0,2,2,3]]";
  return r;
}

TEST(LabelStore, RowsComeBackAsWritten) {
  const std::string dir = fresh_dir("roundtrip");
  const std::string path = next_shard_path(dir, 3);
  EXPECT_EQ(fs::path(path).filename(), "shard-r00003-000000.h5");
  write_shard(path, header(), {row(0), row(5)});
  EXPECT_EQ(fs::path(next_shard_path(dir, 3)).filename(), "shard-r00003-000001.h5");
  Shard s = read_shard(path);
  EXPECT_EQ(header_mismatch(header(), s.header), "");
  ASSERT_EQ(s.rows.size(), 2u);
  const LabelRow& r = s.rows[1];
  const LabelRow want = row(5);
  EXPECT_EQ(r.item_id, want.item_id);
  EXPECT_EQ(r.example_index, 5u);
  EXPECT_EQ(r.labels, want.labels);
  EXPECT_EQ(r.best_path, want.best_path);
  EXPECT_EQ(r.num_evaluations, 12u);
  EXPECT_EQ(r.prompt_tokens, want.prompt_tokens);
  EXPECT_EQ(r.question, want.question);
  EXPECT_EQ(r.good_paths, want.good_paths);
  EXPECT_EQ(r.default_response, want.default_response);
  EXPECT_EQ(int(r.improved), 1);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(LabelStore, ALabelOutsideZeroToTwoIsNotWritten) {
  const std::string dir = fresh_dir("range");
  LabelRow bad = row(0);
  bad.labels[1] = 3;
  try {
    write_shard(next_shard_path(dir, 0), header(), {bad});
    FAIL() << "a label of 3 must not be written";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("labels are 0, 1 or 2"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(list_shards(dir).empty());
}

TEST(LabelStore, AFlippedByteIsNamed) {
  const std::string dir = fresh_dir("flip");
  const std::string path = next_shard_path(dir, 0);
  write_shard(path, header(), {row(0), row(1)});
  // Flip one byte of the row data: find the question text in the file and change it.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  size_t at = bytes.find("Answer: B");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'X';
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  try {
    read_shard(path);
    FAIL() << "a changed row must not read back";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(LabelStore, ADirectoryOrFifoInAShardsPlaceIsAnErrorNotSkipped) {
  for (const char* kind : {"directory", "fifo"}) {
    const std::string dir = fresh_dir(std::string("not-a-file-") + kind);
    write_shard(next_shard_path(dir, 0), header(), {row(0)});
    const std::string odd = next_shard_path(dir, 0);
    if (std::string(kind) == "directory") {
      fs::create_directory(odd);
    } else {
      ASSERT_EQ(::mkfifo(odd.c_str(), 0600), 0);
    }
    const std::string message = error_of([&] { read_label_set(dir); });
    EXPECT_NE(message.find(odd), std::string::npos) << kind << ": " << message;
    EXPECT_NE(message.find("not a regular file"), std::string::npos) << message;
  }
}

TEST(LabelStore, AManifestThatListsAMissingShardIsAnError) {
  const std::string dir = fresh_dir("manifest-missing");
  const std::string first = next_shard_path(dir, 0);
  write_shard(first, header(), {row(0)});
  write_shard(next_shard_path(dir, 0), header(), {row(1)});
  rebuild_manifest(dir);
  EXPECT_EQ(error_of([&] { check_manifest(dir); }), "");
  fs::remove(first);
  const std::string message = error_of([&] { check_manifest(dir); });
  EXPECT_NE(message.find(fs::path(first).filename().string()), std::string::npos) << message;
  EXPECT_NE(message.find("missing"), std::string::npos) << message;
}

TEST(LabelStore, TheFilesHashIsCheckedBeforeHdf5OpensIt) {
  const std::string dir = fresh_dir("file-hash");
  const std::string path = next_shard_path(dir, 0);
  write_shard(path, header(), {row(0)});
  ASSERT_TRUE(fs::exists(shard_checksum_path(path)));
  // The superblock's first bytes: HDF5's own structure, not a row. libhdf5 would refuse or crash on it; the
  // file's hash names it first.
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(9);
  f.put('\x7f');
  f.close();
  const std::string message = error_of([&] { read_shard(path); });
  EXPECT_NE(message.find("it was not opened"), std::string::npos) << message;
}

TEST(ShardWriter, CommitsEveryNRowsAndTheResumeScanSeesThem) {
  const std::string dir = fresh_dir("writer");
  {
    ShardWriter writer(dir, 1, header(), 2, 3600);
    writer.add(row(0));
    EXPECT_TRUE(list_shards(dir).empty());  // one row: still buffered
    writer.add(row(1));
    EXPECT_EQ(list_shards(dir).size(), 1u);
    writer.add(row(4));
    writer.commit();
    writer.commit();  // nothing buffered: no empty shard
  }
  EXPECT_EQ(list_shards(dir).size(), 2u);
  std::ofstream(dir + "/shard-r00001-000009.h5.tmp") << "left by a killed run";
  EXPECT_EQ(labelled_examples(dir, header()), (std::set<uint32_t>{0, 1, 4}));
  EXPECT_FALSE(fs::exists(dir + "/shard-r00001-000009.h5.tmp"));
  ShardHeader other = header();
  other.search_config = R"({"task":"math"})";
  try {
    labelled_examples(dir, other);
    FAIL() << "shards of another configuration must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("was made by"), std::string::npos) << e.what();
  }
  EXPECT_EQ(rebuild_manifest(dir), 3);
  EXPECT_EQ(read_label_set(dir).rows.size(), 3u);
}

TEST(OfficialJson, ExportThenImportKeepsTheFields) {
  const std::string dir = fresh_dir("official");
  write_shard(next_shard_path(dir, 0), header(), {row(0), row(1)});
  LabelSet set = read_label_set(dir);
  nlohmann::json out = to_official_json(set, "2026-12-01 00:00:00");
  EXPECT_EQ(out["best_path"], nlohmann::json::parse("[[0,2,2,3],[0,2,2,3]]"));
  EXPECT_EQ(out["path_lengths"], nlohmann::json::parse("[4,4]"));
  EXPECT_EQ(out["unique_layers"], nlohmann::json::parse("[3,3]"));
  EXPECT_DOUBLE_EQ(out["mcts_accuracy"].get<double>(), 100.0);
  EXPECT_EQ(out["best_response"][0], "B");  // the released code stores the gold answer there
  const std::string file = dir + "/official.json";
  std::ofstream(file) << out.dump();
  std::vector<std::string> questions;
  OfficialLabels back = read_official_json(
      file,
      [](const std::vector<int64_t>& path) {
        std::vector<uint8_t> counts(4, 0);
        for (int64_t l : path) ++counts.at(static_cast<size_t>(l));
        return counts;
      },
      [&](const std::string& q) {
        questions.push_back(q);
        return std::vector<int32_t>{static_cast<int32_t>(q.size())};
      });
  ASSERT_EQ(back.rows.size(), 2u);
  EXPECT_EQ(back.rows[1].item_id, "item-1");
  EXPECT_EQ(back.rows[1].labels, (std::vector<uint8_t>{1, 0, 2, 1}));
  EXPECT_EQ(questions, (std::vector<std::string>{"Q0 é", "Q1 é"}));
  out["questions"].erase(1);
  std::ofstream(file, std::ios::trunc) << out.dump();
  try {
    read_official_json(file, [](const std::vector<int64_t>&) { return std::vector<uint8_t>{}; },
                       [](const std::string&) { return std::vector<int32_t>{}; });
    FAIL() << "lists of different lengths must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'questions' has 1 entries, best_path 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace drllm::labels
