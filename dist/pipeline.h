// Pipeline: this rank's place when a job's backbone is split into stages (--pipeline-stages S,
// docs/pipeline-stages.md). The job's ranks form N / S pipelines of S consecutive ranks; stage s holds a contiguous
// range of layers (model/stage_range.h). Stage 0 of each pipeline drives: it runs the command as a rank of a job
// without pipelines (the drivers share the work queue and the collectives, Runtime::split_for_pipelines) and
// hands each forward call's states on; the ranks after it only serve their layers until the driver stops them.
// Messages go over MPI point to point, each rank waiting with a sleeping poll so that a waiting rank leaves the
// cores to the stage that computes.
#pragma once

#include <memory>

#include "dist/runtime.h"
#include "model/backbone.h"
#include "model/load_options.h"

namespace drllm::dist {

class Pipeline {
 public:
  // A collective over the job: splits `runtime` (stages 1 leaves everything as it is).
  Pipeline(Runtime& runtime, int stages);
  ~Pipeline();  // the driver stops its stages
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  int stages() const { return stages_; }
  int stage() const { return stage_; }
  bool drives() const { return stage_ == 0; }
  // The options that load only this stage's tensors.
  model::LoadOptions stage_options(model::LoadOptions options) const;
  // Driver: links the backbone to the other stages.
  void drive(model::Backbone& backbone);
  // A later stage: answers the driver's forward calls until it stops; returns how many it answered.
  int64_t serve(model::Backbone& backbone);
  // "[stage 1/2 of pipeline 0] " on a split job, else "".
  std::string describe() const;

 private:
  int stages_ = 1, stage_ = 0, world_rank_ = 0;
  std::shared_ptr<model::StageLink> link_;
};

}  // namespace drllm::dist
