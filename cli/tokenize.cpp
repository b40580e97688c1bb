// drllm tokenize --tokenizer tokenizer.json: one line of ids per input line (no special tokens unless
// --add-special); --decode goes back (a line of ids in, a line of text out). --jsonl reads and writes each
// text as a JSON string, so texts with newlines or any character survive the line format.
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "common/error.h"
#include "data/text/tokenizer.h"

namespace drllm::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer_path;
  bool add_special = false;
  bool decode = false;
  bool skip_special = false;
  bool jsonl = false;
};

void run_tokenize(const TokenizeOptions& o) {
  text::Tokenizer tokenizer = text::Tokenizer::from_file(o.tokenizer_path);
  std::string line;
  size_t line_number = 0;
  std::ostringstream out;
  while (std::getline(std::cin, line)) {
    ++line_number;
    if (o.decode) {
      std::string text = tokenizer.decode(parse_token_ids(line, cat("stdin line ", line_number)), o.skip_special);
      out << (o.jsonl ? nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : text)
          << '\n';
    } else {
      std::string text = line;
      if (o.jsonl) {
        try {
          text = nlohmann::json::parse(line).get<std::string>();
        } catch (const nlohmann::json::exception& e) {
          throw Error(cat("stdin line ", line_number, ": not a JSON string: ", e.what()));
        }
      }
      std::vector<int32_t> ids = tokenizer.encode(text, o.add_special);
      for (size_t i = 0; i < ids.size(); ++i) out << (i ? " " : "") << ids[i];
      out << '\n';
    }
    if (out.tellp() > (1 << 16)) {
      std::cout << out.str();
      out.str("");
    }
  }
  std::cout << out.str() << std::flush;
}

}  // namespace

std::vector<TokenId> parse_token_ids(const std::string& text, const std::string& where) {
  std::vector<TokenId> ids;
  std::istringstream in(text);
  std::string item;
  while (in >> item) {
    size_t used = 0;
    long long id = 0;
    try {
      id = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    DRLLM_CHECK(used == item.size() && id >= INT32_MIN && id <= INT32_MAX, where, ": '", item, "' is not a token id");
    ids.push_back(static_cast<TokenId>(id));
  }
  return ids;
}

void add_tokenize(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "text to token ids (or back, with --decode), one line at a time");
  auto o = std::make_shared<TokenizeOptions>();
  cmd->add_option("--tokenizer", o->tokenizer_path, "a Hugging Face tokenizer.json")->required();
  cmd->add_flag("--add-special", o->add_special, "apply the post-processor (e.g. Llama's BOS)");
  cmd->add_flag("--decode", o->decode, "read lines of space-separated ids, print text");
  cmd->add_flag("--skip-special", o->skip_special, "with --decode: leave special tokens out");
  cmd->add_flag("--jsonl", o->jsonl, "each input (encode) or output (decode) text is one JSON string");
  cmd->callback([o] { run_tokenize(*o); });
}

}  // namespace drllm::cli
