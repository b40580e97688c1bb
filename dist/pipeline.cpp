#include "dist/pipeline.h"

#include <chrono>
#include <climits>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <thread>

#include "common/console.h"
#include "common/error.h"
#include "dist/mpi_check.h"

namespace drllm::dist {
namespace {

constexpr int kStageTag = 7301;  // apart from the work queue's tags (and on the job's communicator, not the drivers')

// Sends that return at once (MPI_Isend), each message's bytes kept here until MPI is done with them. A blocking
// send could stall the pipeline on a large message: a stage sending its reply while the driver, not yet
// receiving, sends the next micro-batch.
class PendingSends {
 public:
  PendingSends() = default;
  PendingSends(const PendingSends&) = delete;
  PendingSends& operator=(const PendingSends&) = delete;
  ~PendingSends() {
    try {
      wait_all();
    } catch (const std::exception& e) {
      std::cerr << rank_prefix() << "a pipeline stage message was not delivered: " << e.what() << std::endl;
    }
  }
  void send(std::vector<uint8_t> bytes, int to) {
    DRLLM_CHECK(bytes.size() <= static_cast<size_t>(INT_MAX), "a pipeline stage message of ", bytes.size(),
                " bytes is over MPI's 2 GiB per message; use smaller batches");
    reap();
    pending_.push_back({std::move(bytes), MPI_REQUEST_NULL});
    Pending& p = pending_.back();
    DRLLM_MPI_CHECK(MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()), MPI_BYTE, to, kStageTag,
                              MPI_COMM_WORLD, &p.request));
  }
  // Frees the sends MPI has finished, oldest first (and lets MPI move the others along).
  void reap() {
    while (!pending_.empty()) {
      int done = 0;
      DRLLM_MPI_CHECK(MPI_Test(&pending_.front().request, &done, MPI_STATUS_IGNORE));
      if (!done) return;
      pending_.pop_front();
    }
  }
  // Until every send is done, sleeping between tests (MPI_Wait would spin a core the other stage needs).
  void wait_all() {
    for (int waiting = 0; reap(), !pending_.empty();)
      std::this_thread::sleep_for(std::chrono::microseconds(++waiting < 2000 ? 50 : 2000));
  }

 private:
  struct Pending {
    std::vector<uint8_t> bytes;
    MPI_Request request;
  };
  std::deque<Pending> pending_;  // a deque: adding one moves no other, so the buffers MPI holds stay put
};

// Waits for the next message from `from`, sleeping between polls: a blocking receive would spin a core that the
// computing stage needs (two ranks on two cores here).
// The sends still in flight are reaped meanwhile.
std::vector<uint8_t> receive_bytes(int from, PendingSends& sends) {
  MPI_Status status;
  for (int waiting = 0;;) {
    int ready = 0;
    DRLLM_MPI_CHECK(MPI_Iprobe(from, kStageTag, MPI_COMM_WORLD, &ready, &status));
    if (ready) break;
    sends.reap();
    // Short sleeps while a reply is close (a decode step), longer ones once the wait is long (a driver between jobs).
    std::this_thread::sleep_for(std::chrono::microseconds(++waiting < 2000 ? 50 : 2000));
  }
  int count = 0;
  DRLLM_MPI_CHECK(MPI_Get_count(&status, MPI_BYTE, &count));
  std::vector<uint8_t> bytes(static_cast<size_t>(count));
  DRLLM_MPI_CHECK(MPI_Recv(bytes.data(), count, MPI_BYTE, from, kStageTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
  return bytes;
}

// The driver's link: the Forward to the next rank, the reply from the pipeline's last rank.
class MpiStageLink final : public model::StageLink {
 public:
  MpiStageLink(int next, int last, at::Device device) : next_(next), last_(last), device_(device) {}
  // Returns once the next stage has the states: MPI moves a large message only while the sender calls into it,
  // so a send left in flight would sit still while the driver computes the next micro-batch.
  void send(const model::StageMessage& forward) override {
    sends_.send(model::encode_stage_message(forward), next_);
    sends_.wait_all();
  }
  model::StageMessage receive() override {
    return model::decode_stage_message(receive_bytes(last_, sends_), device_);
  }
  void stop(const std::vector<uint64_t>& released) override {
    model::StageMessage m;
    m.kind = model::StageMessage::Kind::Stop;
    m.released = released;
    sends_.send(model::encode_stage_message(m), next_);
    sends_.wait_all();
  }

 private:
  int next_, last_;
  at::Device device_;
  PendingSends sends_;
};

}  // namespace

Pipeline::Pipeline(Runtime& runtime, int stages) : stages_(stages), world_rank_(runtime.world_rank()) {
  runtime.split_for_pipelines(stages);
  stage_ = world_rank_ % stages_;
}

Pipeline::~Pipeline() {
  if (!link_) return;
  try {
    // Not the backbone's freed caches: the backbone may be gone already, and Stop frees everything anyway.
    link_->stop({});
  } catch (const std::exception& e) {
    std::cerr << rank_prefix() << "could not stop the pipeline's stages: " << e.what() << std::endl;
  }
}

model::LoadOptions Pipeline::stage_options(model::LoadOptions options) const {
  options.stage_index = stage_;
  options.stage_count = stages_;
  return options;
}

void Pipeline::drive(model::Backbone& backbone) {
  if (stages_ == 1) return;
  DRLLM_CHECK(drives(), "stage ", stage_, " does not drive its pipeline");
  link_ = std::make_shared<MpiStageLink>(world_rank_ + 1, world_rank_ + stages_ - 1, backbone.device());
  // One micro-batch in flight per stage (groups within a call, cohorts across calls); DRLLM_MICRO_BATCHES sets
  // another count (bench/run_pipeline_search.py compares 1, each call whole and one at a time, with the default).
  int micro_batches = stages_;
  if (const char* env = std::getenv("DRLLM_MICRO_BATCHES"); env && *env) {
    char* end = nullptr;
    const long value = std::strtol(env, &end, 10);
    DRLLM_CHECK(*end == '\0' && value >= 1 && value <= 1024, "DRLLM_MICRO_BATCHES=", env,
                ": the most micro-batches per forward call, a whole number from 1 (each call sent whole)");
    micro_batches = static_cast<int>(value);
  }
  backbone.attach_next_stages(link_, micro_batches);
}

int64_t Pipeline::serve(model::Backbone& backbone) {
  DRLLM_CHECK(!drives(), "the driver of a pipeline does not serve");
  const int driver = world_rank_ - stage_, previous = world_rank_ - 1, next = world_rank_ + 1;
  const bool last = stage_ == stages_ - 1;
  PendingSends sends;
  for (int64_t answered = 0;; ++answered) {
    std::vector<uint8_t> bytes = receive_bytes(previous, sends);
    model::StageMessage m = model::decode_stage_message(bytes, backbone.device());
    if (m.kind == model::StageMessage::Kind::Stop) {
      if (!last) sends.send(std::move(bytes), next);
      sends.wait_all();
      return answered;
    }
    model::StageMessage out = backbone.run_stage(m);
    sends.send(model::encode_stage_message(out), out.kind == model::StageMessage::Kind::Reply ? driver : next);
  }
}

std::string Pipeline::describe() const {
  if (stages_ == 1) return "";
  return cat("[stage ", stage_, "/", stages_, " of pipeline ", world_rank_ / stages_, "] ");
}

}  // namespace drllm::dist
