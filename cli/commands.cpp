#include "cli/commands.h"

#include <algorithm>
#include <cstdlib>

#include "common/error.h"

namespace drllm::cli {

std::string default_model_dir() {
  if (const char* env = std::getenv("DRLLM_MODEL")) return env;
  return std::string(DRLLM_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

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

}  // namespace drllm::cli
