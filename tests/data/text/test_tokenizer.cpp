// Tokenizer behaviour that the Python parity test (tests/python/test_tokenizer_parity.py) does not cover:
// streaming decode of partial UTF-8, and clear errors for tokenizer files drllm does not support.
#include <gtest/gtest.h>

#include "common/error.h"
#include "data/text/tokenizer.h"
#include "tests/support/data_paths.h"

namespace drllm::text {
namespace {

std::string tokenizer_path(const std::string& family) {
  return drllm::testing::shared_asset("tokenizers/" + family + "/tokenizer.json");
}

TEST(StreamingDecoder, HoldsBackPartialCharactersUntilTheyComplete) {
  DRLLM_SKIP_WITHOUT_SHARED_ASSET("tokenizers");
  for (const char* family : {"qwen3", "llama3_1", "llama2"}) {
    Tokenizer tokenizer = Tokenizer::from_file(tokenizer_path(family));
    const std::string text = "Emoji 👋🏽 and 日本語, then ascii.";
    std::vector<int32_t> ids = tokenizer.encode(text);
    StreamingDecoder stream(tokenizer);
    std::string streamed;
    for (int32_t id : ids) {
      std::string piece = stream.push(id);
      EXPECT_EQ(piece.find("\xEF\xBF\xBD"), std::string::npos) << family << ": a chunk held U+FFFD";
      streamed += piece;
    }
    streamed += stream.finish();
    EXPECT_EQ(streamed, tokenizer.decode(ids, true)) << family;
    EXPECT_EQ(streamed, text) << family;
  }
}

TEST(StreamingDecoder, SkipsSpecialTokensByDefault) {
  DRLLM_SKIP_WITHOUT_SHARED_ASSET("tokenizers");
  Tokenizer tokenizer = Tokenizer::from_file(tokenizer_path("qwen3"));
  std::vector<int32_t> ids = tokenizer.encode("Hi<|im_end|>");
  StreamingDecoder stream(tokenizer);
  std::string out;
  for (int32_t id : ids) out += stream.push(id);
  EXPECT_EQ(out + stream.finish(), "Hi");
  EXPECT_TRUE(tokenizer.is_special(ids.back()));
  EXPECT_EQ(tokenizer.token_to_id("<|im_end|>"), ids.back());
}

void expect_error(const std::string& json, const std::string& fragment) {
  try {
    Tokenizer::from_json_text(json, "test/tokenizer.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test/tokenizer.json"), std::string::npos) << e.what();
  }
}

TEST(Tokenizer, UnsupportedFilesAreClearErrors) {
  expect_error(R"({"model": {"type": "WordPiece", "vocab": {}}})", "model type 'WordPiece' is not supported");
  expect_error(R"({"model": {"type": "Unigram", "vocab": []}})", "model type 'Unigram' is not supported");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                   "normalizer": {"type": "BertNormalizer"}})", "normalizer type 'BertNormalizer'");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                   "pre_tokenizer": {"type": "Whitespace"}})", "pre-tokenizer type 'Whitespace'");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})", "merge 0");
  expect_error(R"({"not": "a tokenizer"})", "not a tokenizer.json");
  expect_error("{", "not valid JSON");
}

TEST(Tokenizer, IdsOutsideTheVocabularyAreErrors) {
  DRLLM_SKIP_WITHOUT_SHARED_ASSET("tokenizers");
  Tokenizer tokenizer = Tokenizer::from_file(tokenizer_path("llama2"));
  EXPECT_EQ(tokenizer.vocab_size(), 32000);
  EXPECT_THROW(tokenizer.decode({5, 32000}), Error);
  EXPECT_THROW(tokenizer.decode({-1}), Error);
}

}  // namespace
}  // namespace drllm::text

#include "data/tasks/lm_eval.h"

namespace drllm::text {
namespace {

// A tokenizer.json small enough to write by hand: three tokens and one merge.
std::string tiny_tokenizer(const std::string& vocab, const std::string& added = "[]") {
  return R"({"model": {"type": "BPE", "vocab": )" + vocab + R"(, "merges": ["a b"]}, "added_tokens": )" + added + "}";
}

TEST(Tokenizer, HandWrittenTokenizerEncodesAsItsMergesSay) {
  Tokenizer t = Tokenizer::from_json_text(tiny_tokenizer(R"({"a": 0, "b": 1, "ab": 2})"), "tiny.json");
  EXPECT_EQ(t.encode("ab", false), (std::vector<int32_t>{2}));
  EXPECT_EQ(t.encode("ba", false), (std::vector<int32_t>{1, 0}));
}

// Ids that would wrap into another token, corrupt the id table or leave holes in it (the fuzzer's findings: -1
// corrupted the heap, 2^40 became 0, duplicates, fractions and ids past the vocabulary were accepted).
TEST(Tokenizer, BadTokenIdsAreErrorsNamingTheToken) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {tiny_tokenizer(R"({"a": -1, "b": 1, "ab": 2})"), "vocabulary token 'a' has id -1"},
      {tiny_tokenizer(R"({"a": 1099511627776, "b": 1, "ab": 2})"), "has id 1099511627776"},
      {tiny_tokenizer(R"({"a": 0.5, "b": 1, "ab": 2})"), "has id 0.5"},
      {tiny_tokenizer(R"({"a": 0, "b": 0, "ab": 2})"), "both have id 0"},
      {tiny_tokenizer(R"({"a": 0, "b": 1, "ab": 7})"), "token id 7 is past the vocabulary"},
      {tiny_tokenizer(R"({"a": 0, "b": 1, "ab": 2})", R"([{"id": 3, "content": "<x>"}, {"id": 3, "content": "<y>"}])"),
       "two added tokens have id 3"},
      {tiny_tokenizer(R"({"a": 0, "b": 1, "ab": 2})", R"([{"id": -5, "content": "<x>"}])"), "added token <x> has id -5"},
  };
  for (const auto& [json, fragment] : cases) {
    try {
      Tokenizer::from_json_text(json, "bad.json");
      ADD_FAILURE() << "accepted: " << json;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
    }
  }
}

TEST(LmEvalRequests, TrailingSpaceMovesToTheContinuationAndIdsSplitTheJoinedString) {
  DRLLM_SKIP_WITHOUT_SHARED_ASSET("tokenizers");
  Tokenizer tokenizer = Tokenizer::from_file(tokenizer_path("llama3_1"));
  tasks::LoglikelihoodRequest r = tasks::encode_pair(tokenizer, "Question: Is ice cold?\nAnswer: ", "yes", false);
  std::vector<int32_t> whole = tokenizer.encode("Question: Is ice cold?\nAnswer: yes");
  std::vector<int32_t> joined = r.context;
  joined.insert(joined.end(), r.continuation.begin(), r.continuation.end());
  EXPECT_EQ(joined, whole);
  EXPECT_EQ(r.context, tokenizer.encode("Question: Is ice cold?\nAnswer:"));
  EXPECT_EQ(tokenizer.decode(r.continuation), " yes");
  tasks::LoglikelihoodRequest with_bos = tasks::encode_pair(tokenizer, "Q:", " A", true);
  EXPECT_EQ(with_bos.context.front(), 128000);  // <|begin_of_text|>
}

}  // namespace
}  // namespace drllm::text
