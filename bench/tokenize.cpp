// bench_tokenize TOKENIZER_JSON TEXTS_JSONL: encodes every text (one JSON string a line) on one thread, the
// best of 3 passes after a warm-up pass; prints {"bytes": ..., "seconds": ..., "tokens": ...} as JSON.
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "data/text/tokenizer.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: bench_tokenize TOKENIZER_JSON TEXTS_JSONL\n";
    return 2;
  }
  drllm::text::Tokenizer tokenizer = drllm::text::Tokenizer::from_file(argv[1]);
  std::vector<std::string> texts;
  std::ifstream in(argv[2]);
  size_t bytes = 0;
  for (std::string line; std::getline(in, line);) {
    texts.push_back(nlohmann::json::parse(line).get<std::string>());
    bytes += texts.back().size();
  }
  size_t tokens = 0;
  double best = 1e30;
  for (int pass = 0; pass < 4; ++pass) {
    auto t0 = std::chrono::steady_clock::now();
    tokens = 0;
    for (const std::string& t : texts) tokens += tokenizer.encode(t).size();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (pass > 0) best = std::min(best, s);
  }
  std::cout << nlohmann::json{{"bytes", bytes}, {"seconds", best}, {"tokens", tokens}}.dump() << std::endl;
  return 0;
}
