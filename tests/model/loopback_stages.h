// The later stages of a split model in this process, for tests: each message goes through bytes, as it would
// between ranks (the MPI transport is tested under mpirun in tests/python/test_pipeline_stages.py).
#pragma once

#include <vector>

#include "model/backbone.h"
#include "model/stage_messages.h"

namespace drllm::test {

class LoopbackStages final : public model::StageLink {
 public:
  explicit LoopbackStages(std::vector<model::Backbone*> stages) : stages_(std::move(stages)) {}
  model::StageMessage exchange(const model::StageMessage& forward) override {
    std::vector<uint8_t> bytes = model::encode_stage_message(forward);
    for (model::Backbone* stage : stages_)
      bytes = model::encode_stage_message(stage->run_stage(model::decode_stage_message(bytes, at::kCPU)));
    ++exchanges;
    return model::decode_stage_message(bytes, at::kCPU);
  }
  void stop(const std::vector<uint64_t>&) override {}
  int exchanges = 0;

 private:
  std::vector<model::Backbone*> stages_;
};

}  // namespace drllm::test
