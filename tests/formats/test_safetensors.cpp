// The safetensors reader on good files and on truncated or hostile ones: every error names the file and,
// where there is one, the tensor.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "formats/safetensors.h"
#include "tests/model/fixtures.h"

namespace drllm::model {
namespace {

using namespace drllm::test;

const std::string kModel = "llama_rope3_fp32";

// Writes `bytes` as model.safetensors of a scratch copy of the fixture and expects opening it to fail with a
// message holding every fragment.
void expect_open_error(const std::string& label, const std::string& bytes,
                       const std::vector<std::string>& fragments) {
  std::string dir = copy_fixture(kModel, label);
  std::string path = dir + "/model.safetensors";
  write_file(path, bytes);
  try {
    formats::SafetensorsFile file(path);
    FAIL() << label << ": no error";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    for (const auto& f : fragments) EXPECT_NE(message.find(f), std::string::npos) << message;
  }
}

std::string original() { return read_file(fixture_dir(kModel) + "/model.safetensors"); }

TEST(Safetensors, ReadsEveryTensorOfAValidFile) {
  formats::SafetensorsFile file(fixture_dir(kModel) + "/model.safetensors");
  SafetensorsParts parts = split_safetensors(original());
  size_t expected = parts.header.size() - (parts.header.contains("__metadata__") ? 1 : 0);
  EXPECT_EQ(file.tensors().size(), expected);
  const formats::TensorInfo* embed = file.find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->shape, (std::vector<int64_t>{256, 64}));
  EXPECT_EQ(embed->dtype, formats::StDType::F32);
}

TEST(Safetensors, TruncatedDataSectionIsDetected) {
  std::string bytes = original();
  expect_open_error("truncated", bytes.substr(0, bytes.size() - 100), {"run past the data section", "truncated"});
}

TEST(Safetensors, FileShorterThanTheLengthFieldIsDetected) {
  expect_open_error("tiny", "abc", {"truncated safetensors file"});
}

TEST(Safetensors, HeaderLengthBeyondTheFileIsDetected) {
  std::string bytes = original();
  uint64_t huge = bytes.size();  // header can never be as long as the whole file
  std::memcpy(bytes.data(), &huge, 8);
  expect_open_error("header-length", bytes, {"header length", "runs past the end of the file"});
}

// A header length one short of the header (here: the header's last padding space becomes the data section's first
// byte) parses, but reads every tensor one byte off; Python's safetensors refuses it because the tensors no longer
// cover the data section exactly. So must this reader, and the same for bytes appended after the last tensor.
TEST(Safetensors, DataSectionNotCoveredExactlyIsDetected) {
  const std::string bytes = original();
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  const std::string header = bytes.substr(8, header_len), data = bytes.substr(8 + header_len);
  std::string one_short(8, '\0');
  const uint64_t short_len = header_len;  // the header is header_len bytes, then one padding space we add...
  std::memcpy(one_short.data(), &short_len, 8);
  one_short += header + " " + data;  // ...which the length leaves out: it lands in the data section
  expect_open_error("header-one-short", one_short, {"bytes after the last tensor"});
  expect_open_error("trailing-bytes", bytes + "x", {"bytes after the last tensor"});
}

TEST(Safetensors, AGapBetweenTensorsIsDetected) {
  SafetensorsParts parts = split_safetensors(original());
  // Move the last tensor one byte later (and grow the file by one byte): a gap before it.
  std::string last;
  uint64_t last_begin = 0;
  for (auto& [name, entry] : parts.header.items())
    if (name != "__metadata__" && entry["data_offsets"][0].get<uint64_t>() >= last_begin) {
      last_begin = entry["data_offsets"][0].get<uint64_t>();
      last = name;
    }
  auto& offsets = parts.header[last]["data_offsets"];
  offsets = {offsets[0].get<uint64_t>() + 1, offsets[1].get<uint64_t>() + 1};
  parts.data.insert(parts.data.begin() + static_cast<std::ptrdiff_t>(last_begin), '\0');
  expect_open_error("gap", join_safetensors(parts), {"'" + last + "'", "a gap"});
}

TEST(Safetensors, OverlappingTensorsAreDetected) {
  SafetensorsParts parts = split_safetensors(original());
  // Give the v projection of layer 0 the k projection's bytes (same shape, so only the overlap is wrong).
  parts.header["model.layers.0.self_attn.v_proj.weight"]["data_offsets"] =
      parts.header["model.layers.0.self_attn.k_proj.weight"]["data_offsets"];
  expect_open_error("overlap", join_safetensors(parts),
                    {"overlap", "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.k_proj.weight"});
}

TEST(Safetensors, OffsetsOutsideTheDataSectionAreDetected) {
  SafetensorsParts parts = split_safetensors(original());
  auto& offsets = parts.header["model.norm.weight"]["data_offsets"];
  uint64_t size = offsets[1].get<uint64_t>() - offsets[0].get<uint64_t>();
  offsets = {parts.data.size(), parts.data.size() + size};
  expect_open_error("out-of-range", join_safetensors(parts), {"model.norm.weight", "run past the data section"});
}

TEST(Safetensors, ByteRangeThatDisagreesWithShapeIsDetected) {
  SafetensorsParts parts = split_safetensors(original());
  parts.header["model.norm.weight"]["shape"] = {65};
  expect_open_error("shape", join_safetensors(parts), {"model.norm.weight", "disagrees with dtype F32 and shape [65]"});
}

TEST(Safetensors, UnknownDtypeAndNegativeShapeAreDetected) {
  SafetensorsParts parts = split_safetensors(original());
  parts.header["model.norm.weight"]["dtype"] = "F7";
  expect_open_error("dtype", join_safetensors(parts), {"model.norm.weight", "unsupported dtype 'F7'"});
  parts = split_safetensors(original());
  parts.header["model.norm.weight"]["shape"] = {-64};
  expect_open_error("negative", join_safetensors(parts), {"model.norm.weight", "negative"});
}

TEST(Safetensors, HeaderThatIsNotJsonIsDetected) {
  std::string bytes = original();
  bytes[8] = '!';
  expect_open_error("json", bytes, {"header is not valid JSON"});
}

TEST(SafetensorsCheckpoint, ShardedIndexMapsEveryTensorToItsShard) {
  formats::SafetensorsCheckpoint checkpoint(fixture_dir("qwen3_sharded_fp32"));
  EXPECT_GT(checkpoint.num_files(), 1u);
  auto index = nlohmann::json::parse(read_file(fixture_dir("qwen3_sharded_fp32") + "/model.safetensors.index.json"));
  EXPECT_EQ(checkpoint.entries().size(), index["weight_map"].size());
  for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
    auto entry = checkpoint.get(it.key());
    EXPECT_EQ(std::filesystem::path(entry.file->path()).filename().string(), it->get<std::string>());
  }
}

TEST(SafetensorsCheckpoint, ShardThatLacksAMappedTensorIsNamed) {
  std::string dir = scratch_dir("bad-index");
  for (const auto& f : std::filesystem::directory_iterator(fixture_dir("qwen3_sharded_fp32")))
    std::filesystem::copy_file(f.path(), dir + "/" + f.path().filename().string());
  auto index = nlohmann::json::parse(read_file(dir + "/model.safetensors.index.json"));
  std::string other = index["weight_map"]["model.norm.weight"];
  index["weight_map"]["model.embed_tokens.weight"] = other;  // a shard that does not hold it
  write_file(dir + "/model.safetensors.index.json", index.dump());
  try {
    formats::SafetensorsCheckpoint checkpoint(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'model.embed_tokens.weight' is mapped to " + other), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace drllm::model
