// Loading and running a backbone on bad input: every error names the file and the tensor or field at fault.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "model/backbone.h"
#include "tests/model/fixtures.h"

namespace drllm::model {
namespace {

using namespace drllm::test;

const std::string kModel = "llama_rope3_fp32";

void expect_load_error(const std::string& dir, const std::vector<std::string>& fragments) {
  try {
    Backbone::load(dir);
    FAIL() << "no error loading " << dir;
  } catch (const Error& e) {
    for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

TEST(BackboneLoad, MissingTensorIsNamed) {
  std::string dir = copy_fixture(kModel, "missing");
  SafetensorsParts parts = split_safetensors(read_file(dir + "/model.safetensors"));
  // A file written without the tensor: its entry and its bytes gone, the later offsets moved up (a header entry
  // removed alone would leave a gap, which the reader refuses first).
  const std::string gone = "model.layers.2.mlp.down_proj.weight";
  const uint64_t begin = parts.header[gone]["data_offsets"][0], end = parts.header[gone]["data_offsets"][1];
  parts.header.erase(gone);
  parts.data.erase(begin, end - begin);
  for (auto& [name, entry] : parts.header.items()) {
    if (name == "__metadata__" || entry["data_offsets"][0].get<uint64_t>() < end) continue;
    entry["data_offsets"] = {entry["data_offsets"][0].get<uint64_t>() - (end - begin),
                             entry["data_offsets"][1].get<uint64_t>() - (end - begin)};
  }
  write_file(dir + "/model.safetensors", join_safetensors(parts));
  expect_load_error(dir, {dir, "missing tensor 'model.layers.2.mlp.down_proj.weight'"});
}

TEST(BackboneLoad, ShapeThatDisagreesWithTheConfigIsNamed) {
  std::string dir = copy_fixture(kModel, "shape");
  auto config = nlohmann::json::parse(read_file(dir + "/config.json"));
  config["intermediate_size"] = 96;
  write_file(dir + "/config.json", config.dump());
  expect_load_error(dir, {dir + "/model.safetensors", "model.layers.0.mlp.gate_proj.weight",
                          "shape [128, 64] but the config implies [96, 64]"});
}

TEST(BackboneLoad, NonFloatWeightDtypeIsNamed) {
  std::string dir = copy_fixture(kModel, "dtype");
  SafetensorsParts parts = split_safetensors(read_file(dir + "/model.safetensors"));
  parts.header["model.norm.weight"]["dtype"] = "I32";  // same bytes per element, wrong kind
  write_file(dir + "/model.safetensors", join_safetensors(parts));
  expect_load_error(dir, {"model.norm.weight", "has dtype I32"});
}

TEST(BackboneLoad, NaNOrInfWeightIsNamed) {
  // One float32 value of one weight made NaN (then +Inf) in place: the load refuses it, naming file and tensor.
  for (const uint32_t bits : {0x7fc00000u, 0x7f800000u}) {
    std::string dir = copy_fixture(kModel, bits == 0x7fc00000u ? "nan" : "inf");
    SafetensorsParts parts = split_safetensors(read_file(dir + "/model.safetensors"));
    const std::string name = "model.layers.1.self_attn.o_proj.weight";
    const uint64_t begin = parts.header[name]["data_offsets"][0];
    std::memcpy(parts.data.data() + begin + 4 * 17, &bits, 4);
    write_file(dir + "/model.safetensors", join_safetensors(parts));
    expect_load_error(dir, {dir + "/model.safetensors", name, "holds NaN or Inf values"});
  }
}

TEST(BackboneLoad, UnknownArchitectureIsNamed) {
  std::string dir = copy_fixture(kModel, "arch");
  auto config = nlohmann::json::parse(read_file(dir + "/config.json"));
  config["model_type"] = "gpt_neox";
  write_file(dir + "/config.json", config.dump());
  expect_load_error(dir, {dir + "/config.json", "unknown architecture model_type='gpt_neox'"});
}

TEST(BackboneLoad, AConfigWithFewerLayersThanTheWeightsIsNamed) {
  std::string dir = copy_fixture(kModel, "fewer-layers");
  auto config = nlohmann::json::parse(read_file(dir + "/config.json"));
  config["num_hidden_layers"] = config["num_hidden_layers"].get<int>() - 1;
  write_file(dir + "/config.json", config.dump());
  expect_load_error(dir, {dir, "belongs to layer", "the config and the weights disagree"});
}

TEST(BackboneLoad, FolderWithoutWeightsIsNamed) {
  std::string dir = copy_fixture(kModel, "empty");
  std::filesystem::remove(dir + "/model.safetensors");
  expect_load_error(dir, {dir, "no model.safetensors"});
}

TEST(BackboneRun, BadPlansAndTokensAreErrors) {
  Backbone backbone = Backbone::load(fixture_dir(kModel));
  at::Tensor prompt = at::tensor({5, 6, 7}, at::kLong).unsqueeze(0);
  KvCache cache = backbone.new_cache(RepeatKv::Shared);
  EXPECT_THROW(backbone.prefill(prompt, LayerPlan({1, 1, 1}), cache), Error);        // 3 entries for 4 layers
  EXPECT_THROW(backbone.prefill(at::tensor({5, 300}, at::kLong).unsqueeze(0), LayerPlan::all_execute(4), cache),
               Error);                                                                // id beyond the vocabulary
  EXPECT_THROW(backbone.decode(prompt.narrow(1, 0, 1), LayerPlan::all_execute(4), cache), Error);  // no prefill
  backbone.prefill(prompt, LayerPlan::all_execute(4), cache);
  EXPECT_THROW(backbone.prefill(prompt, LayerPlan::all_execute(4), cache), Error);   // cache not empty
  EXPECT_THROW(backbone.decode(prompt, LayerPlan::all_execute(4), cache), Error);    // decode takes [B, 1]
}

}  // namespace
}  // namespace drllm::model
