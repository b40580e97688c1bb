// The later stages of a split model in this process, for tests: each message goes through bytes, as it would
// between ranks (the MPI transport is tested under mpirun in tests/python/test_pipeline_stages.py).
#pragma once

#include <deque>
#include <stdexcept>
#include <vector>

#include "model/backbone.h"
#include "model/stage_messages.h"

namespace drllm::test {

class LoopbackStages final : public model::StageLink {
 public:
  explicit LoopbackStages(std::vector<model::Backbone*> stages) : stages_(std::move(stages)) {}
  // The stages run at once, one after another; the reply waits for receive().
  void send(const model::StageMessage& forward) override {
    std::vector<uint8_t> bytes = model::encode_stage_message(forward);
    for (model::Backbone* stage : stages_)
      bytes = model::encode_stage_message(stage->run_stage(model::decode_stage_message(bytes, at::kCPU)));
    replies_.push_back(std::move(bytes));
    ++sends;
  }
  model::StageMessage receive() override {
    if (replies_.empty()) throw std::logic_error("LoopbackStages: receive() with no Forward sent");
    model::StageMessage reply = model::decode_stage_message(replies_.front(), at::kCPU);
    replies_.pop_front();
    return reply;
  }
  void stop(const std::vector<uint64_t>&) override {}
  int sends = 0;  // Forwards sent: one per micro-batch

 private:
  std::vector<model::Backbone*> stages_;
  std::deque<std::vector<uint8_t>> replies_;
};

}  // namespace drllm::test
