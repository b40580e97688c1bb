// drllm_train_step LABELS OUT.safetensors: the first optimizer step of router training, driven from C++
// (train::Trainer::train_step, as llm.c's test_gpt2.c drives its step), written out for the PyTorch oracle in
// tests/python/test_train_mpi.py: the initial weights (init.*), the step's summed gradients (grad.*), the weights
// after the AdamW update (after.*), the loss, the class weights and the batch's rows. The settings are the test's:
// global batch 4 in micro-batches of 1, 5 warm-up steps, one epoch, cached features, nothing held out.
#include <filesystem>
#include <iostream>

#include "dist/communicator.h"
#include "dist/runtime.h"
#include "data/labels/label_store.h"
#include "model/safetensors_writer.h"
#include "train/router_data.h"
#include "train/trainer.h"

using namespace drllm;

int main(int argc, char** argv) try {
  if (argc != 3) {
    std::cerr << "usage: drllm_train_step LABELS OUT.safetensors\n";
    return 2;
  }
  const labels::LabelSet set = labels::read_label_set(argv[1]);
  const train::RouterData data = train::cached_router_data(set, /*stream=*/false), none = data.subset({});
  train::TrainOptions options;
  options.batch = 4;
  options.micro_batch = 1;
  options.warmup = 5;
  options.epochs = 1;
  options.max_steps = 1;
  const std::string run = std::string(argv[2]) + ".run";
  std::filesystem::remove_all(run);
  dist::Runtime runtime;
  dist::MpiCommunicator comm(runtime);
  train::Trainer trainer(runtime, comm, data, none, options,
                         {set.header.model_fingerprint, labels::rows_sha256(set.header, set.rows), "cached"}, run);
  const char* names[] = {"w1", "b1", "w2", "b2"};
  std::vector<std::pair<std::string, at::Tensor>> out;
  std::vector<at::Tensor> before = trainer.routers().parameters();
  for (size_t i = 0; i < before.size(); ++i)
    out.emplace_back(std::string("init.") + names[i], before[i].detach().clone().contiguous());
  train::StepOutcome step = trainer.train_step();
  std::vector<at::Tensor> after = trainer.routers().parameters();
  for (size_t i = 0; i < after.size(); ++i) {
    out.emplace_back(std::string("grad.") + names[i], step.gradients[i].contiguous());
    out.emplace_back(std::string("after.") + names[i], after[i].detach().contiguous());
  }
  out.emplace_back("loss", at::full({1}, step.loss, at::kDouble));
  out.emplace_back("alpha", trainer.class_weights().contiguous());
  out.emplace_back("batch", at::tensor(step.batch, at::kLong));
  model::save_safetensors(argv[2], out);
  std::filesystem::remove_all(run);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "drllm_train_step: " << e.what() << "\n";
  return 1;
}
