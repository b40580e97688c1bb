// ModelConfig from config.json text, in both transformers 4.x and 5.x spellings, with hand-written inputs.
#include <gtest/gtest.h>

#include "common/error.h"
#include "model/model_config.h"

namespace drllm::model {
namespace {

const char* kLlama31V4 = R"({
  "model_type": "llama", "vocab_size": 128256, "hidden_size": 4096, "intermediate_size": 14336,
  "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-5,
  "rope_theta": 500000.0, "max_position_embeddings": 131072, "torch_dtype": "bfloat16",
  "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "tie_word_embeddings": false})";

TEST(ModelConfig, ReadsLlama31InTransformers4Spelling) {
  ModelConfig c = ModelConfig::from_json_text(kLlama31V4, "llama31/config.json");
  EXPECT_EQ(c.architecture, Architecture::Llama);
  EXPECT_EQ(c.num_layers, 32);
  EXPECT_EQ(c.num_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 128);  // 4096 / 32
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.dtype, "bfloat16");
  EXPECT_EQ(c.eos_token_ids, (std::vector<TokenId>{128001, 128008, 128009}));
  EXPECT_EQ(c.bos_token_id, 128000);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.qk_norm);
}

TEST(ModelConfig, ReadsRopeParametersAndDtypeInTransformers5Spelling) {
  ModelConfig c = ModelConfig::from_json_text(R"({
    "model_type": "qwen3", "vocab_size": 151936, "hidden_size": 1024, "intermediate_size": 3072,
    "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
    "rope_parameters": {"rope_theta": 1000000.0, "rope_type": "default"}, "dtype": "bfloat16",
    "tie_word_embeddings": true, "sliding_window": null, "use_sliding_window": false})", "qwen3.json");
  EXPECT_EQ(c.architecture, Architecture::Qwen3);
  EXPECT_EQ(c.head_dim, 128);  // given explicitly, not 1024 / 16
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(c.rope_scaling.type, "default");
  EXPECT_TRUE(c.qk_norm);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_FALSE(c.sliding_window.has_value());
}

TEST(ModelConfig, Qwen2HasQkvBiasAndItsUnusedSlidingWindowIsIgnored) {
  ModelConfig c = ModelConfig::from_json_text(R"({
    "model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864,
    "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
    "sliding_window": 32768, "use_sliding_window": false})", "qwen2.json");
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_bias);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_FALSE(c.sliding_window.has_value());
}

TEST(ModelConfig, MistralKeepsItsSlidingWindow) {
  ModelConfig c = ModelConfig::from_json_text(R"({
    "model_type": "mistral", "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336,
    "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "sliding_window": 4096})", "m");
  ASSERT_TRUE(c.sliding_window.has_value());
  EXPECT_EQ(*c.sliding_window, 4096);
}

void expect_error(const std::string& json, const std::string& fragment) {
  try {
    ModelConfig::from_json_text(json, "bad/config.json");
    FAIL() << "no error for " << json;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad/config.json"), std::string::npos) << e.what();
  }
}

TEST(ModelConfig, BadInputIsAnErrorNamingTheFileAndField) {
  expect_error(R"({"model_type": "gpt2", "vocab_size": 5})", "model_type='gpt2'");
  expect_error(R"({"model_type": "llama", "vocab_size": 5, "hidden_size": 8, "intermediate_size": 8,
                   "num_attention_heads": 2})", "'num_hidden_layers'");
  expect_error(R"({"model_type": "llama", "vocab_size": 5, "hidden_size": 8, "intermediate_size": 8,
                   "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 3})",
               "num_key_value_heads");
  expect_error(R"({"model_type": "llama", "vocab_size": "many"})", "'vocab_size' must be an integer");
  expect_error(R"({"model_type": "llama", "vocab_size": 5, "hidden_size": 8, "intermediate_size": 8,
                   "num_hidden_layers": 1, "num_attention_heads": 2, "rope_scaling": {"rope_type": "yarn"}})",
               "'yarn'");
  expect_error(R"({"model_type": "llama", "vocab_size": 5, "hidden_size": 8, "intermediate_size": 8,
                   "num_hidden_layers": 1, "num_attention_heads": 2, "torch_dtype": "int8"})", "'int8'");
  expect_error("{not json", "not valid JSON");
}

// Values that parse but that no model can have, or that drllm would run as something else.
TEST(ModelConfig, ValuesOutsideWhatAModelCanBeAreErrorsNamingTheField) {
  const std::string base = R"("model_type": "llama", "vocab_size": 5, "hidden_size": 8, "intermediate_size": 8,
                              "num_hidden_layers": 1, "num_attention_heads": 2)";
  auto with = [&](const std::string& extra) { return "{" + base + ", " + extra + "}"; };
  expect_error(with(R"("hidden_act": "gelu")"), "hidden_act 'gelu' is not supported");
  expect_error(with(R"("rms_norm_eps": -1e-6)"), "rms_norm_eps is -1e-06");
  expect_error(with(R"("rms_norm_eps": 0)"), "rms_norm_eps is 0");
  expect_error(with(R"("rope_theta": -5)"), "rope_theta is -5");
  expect_error(with(R"("rope_theta": 0)"), "rope_theta is 0");
  expect_error(with(R"("rope_scaling": "llama3")"), "'rope_scaling' must be an object or null");
  expect_error(with(R"("rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 1,
                                        "high_freq_factor": 4, "original_max_position_embeddings": -1})"),
               "original_max_position_embeddings");
  expect_error(with(R"("max_position_embeddings": 0)"), "max_position_embeddings is 0");
  EXPECT_NO_THROW(ModelConfig::from_json_text(with(R"("hidden_act": "silu", "rope_scaling": null)"), "ok"));
}

TEST(ModelConfig, TensorsOfLayersPastTheConfigsCountAreAnError) {
  ModelConfig c = ModelConfig::from_json_text(R"({"model_type": "llama", "vocab_size": 5, "hidden_size": 8,
      "intermediate_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2})", "c.json");
  EXPECT_NO_THROW(c.check_layer_tensors({"model.layers.0.mlp.up_proj.weight", "model.layers.1.x", "blk.1.attn_q.weight",
                                         "model.layers.norm", "lm_head.weight"}, "m"));
  for (const char* name : {"model.layers.2.mlp.up_proj.weight", "blk.7.ffn_up.weight"}) {
    try {
      c.check_layer_tensors({"model.layers.0.x", name}, "m");
      ADD_FAILURE() << name << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + name + "'"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("says 2 layers"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace drllm::model
