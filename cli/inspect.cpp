// drllm inspect MODEL_DIR: the parsed config, tensor and parameter counts, dtype and fingerprint, after the
// same validation a load does (so a broken checkpoint is named here, not mid-job).
#include <iostream>

#include "model/model_files.h"
#include "cli/commands.h"
#include "model/backbone.h"
#include "model/fingerprint.h"
#include "model/gguf_model.h"
#include "model/model_config.h"

namespace drllm::cli {

void add_inspect(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "print a model folder's config, tensor counts and fingerprint");
  auto model_dir = std::make_shared<std::string>(default_model_dir());
  cmd->add_option("model", *model_dir, "Hugging Face model folder (config.json + safetensors) or .gguf file")
      ->capture_default_str();
  cmd->callback([model_dir] {
    const model::ModelFiles files = model::ModelFiles::open(*model_dir);
    const model::ModelConfig& config = files.config();
    const model::CheckpointSummary& summary = files.summary();
    std::cout << "model               " << *model_dir << "\n"
              << config.describe() << "files               " << summary.num_files << "\n"
              << "tensors             " << summary.num_tensors << "\n"
              << "parameters          " << summary.num_parameters << "\n"
              << "tensor dtypes       " << summary.dtypes << "\n"
              << "fingerprint         " << summary.fingerprint << "\n";
  });
}

}  // namespace drllm::cli
