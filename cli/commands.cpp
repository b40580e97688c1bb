#include "cli/commands.h"

#include <algorithm>

#include "common/error.h"

namespace drllm::cli {

void add_commands(CLI::App& app, const CommonOptions& common) {
  add_inspect(app);
  add_generate(app, common);
  add_tokenize(app);
  add_chat_template(app);
  add_convert(app);
  add_eval(app, common);
  add_search(app, common);
  add_labels(app);
  add_train(app, common);
  add_demo(app, common);
}

void run_command(const std::vector<std::string>& args, const CommonOptions& common) {
  CLI::App app{"drllm"};
  app.require_subcommand(1);
  add_commands(app, common);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    std::string line;
    for (const std::string& a : args) line += " " + a;
    throw Error(cat("drllm", line, ": ", e.what()));
  }
}

}  // namespace drllm::cli
