#include "cli/commands.h"

#include <algorithm>
#include <cstdlib>

#include "common/error.h"
#include "model/registry.h"

namespace drllm::cli {

std::string default_model_dir() {
  if (const char* env = std::getenv("DRLLM_MODEL"); env && *env) return env;
  return model::default_model_name();
}

void add_backbone_options(CLI::App* cmd, model::LoadOptions& options) {
  cmd->add_option("--device", options.device, "cpu, cuda or cuda:N")->capture_default_str();
  add_dtype_option(cmd, options.dtype);
}

void add_dtype_option(CLI::App* cmd, std::string& dtype) {
  cmd->add_option("--dtype", dtype,
                  "compute dtype: auto ($DRLLM_DTYPE if set; else bfloat16 on CPUs with native bf16 matmuls "
                  "(AVX512-BF16, AMX), float32 on other CPUs, the checkpoint's dtype on CUDA), float32, bfloat16, "
                  "float16")
      ->capture_default_str()->check(CLI::IsMember({"auto", "float32", "bfloat16", "float16"}));
}

int64_t BatchFlags::batch_for(const std::string& device) const {
  if (batch > 0) return batch;
  return device.rfind("cuda", 0) == 0 ? 32 : 8;
}

size_t BatchFlags::memory_bytes() const { return static_cast<size_t>(max_memory_gb * double(1ull << 30)); }

void add_batch_options(CLI::App* cmd, BatchFlags& flags, const std::string& what) {
  cmd->add_option("--batch", flags.batch,
                  cat(what, " at once, in one batched forward per step (0: 8 on a CPU, 32 on a GPU); the same results at ",
                      "any batch: bit for bit in bf16 on a CPU, to the last bits of rounding in fp32"))
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-memory-gb", flags.max_memory_gb,
                  "memory for the KV caches and activations of the sequences in flight; fewer run at once when "
                  "they would need more (0: no bound)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
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
  add_models(app);
}

}  // namespace drllm::cli
