#include "dist/work_queue.h"

#include <chrono>
#include <iostream>

#include "common/error.h"
#include "dist/mpi_check.h"

namespace drllm::dist {
namespace {

constexpr int kRequestTag = 7101, kReplyTag = 7102;
constexpr int64_t kAskForWork = 0, kLeaving = 1;

}  // namespace

WorkQueue::WorkQueue(const Runtime& runtime, std::vector<uint32_t> items, int chunk_size)
    : runtime_(runtime), chunk_size_(chunk_size) {
  DRLLM_CHECK(chunk_size > 0, "work queue: chunk size must be positive");
  if (runtime_.is_root()) {
    items_.assign(items.begin(), items.end());
    tally_by_rank_.assign(static_cast<size_t>(runtime_.size()), WorkTally{});
    if (runtime_.size() > 1) server_ = std::thread([this] { serve(); });
  }
}

WorkQueue::~WorkQueue() {
  abandon_ = true;
  if (server_.joinable()) server_.join();
}

std::vector<uint32_t> WorkQueue::take_chunk() {
  std::vector<uint32_t> chunk;
  while (!closed_ && !items_.empty() && static_cast<int>(chunk.size()) < chunk_size_) {
    chunk.push_back(items_.front());
    items_.pop_front();
  }
  return chunk;
}

WorkTally WorkQueue::tally() {
  std::lock_guard<std::mutex> lock(mutex_);
  WorkTally sum;
  for (const WorkTally& t : tally_by_rank_) {
    sum.finished += t.finished;
    sum.notable += t.notable;
  }
  return sum;
}

void WorkQueue::report(WorkTally here) {
  if (!runtime_.is_root()) {
    here_ = here;
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  tally_by_rank_[0] = here;
}

std::vector<uint32_t> WorkQueue::next() {
  if (done_here_) return {};
  std::vector<uint32_t> chunk;
  if (runtime_.is_root()) {
    std::lock_guard<std::mutex> lock(mutex_);
    chunk = take_chunk();
  } else {
    int64_t message[3] = {kAskForWork, here_.finished, here_.notable};
    DRLLM_MPI_CHECK(MPI_Send(message, 3, MPI_INT64_T, 0, kRequestTag, comm_of(runtime_)));
    MPI_Status status;
    DRLLM_MPI_CHECK(MPI_Probe(0, kReplyTag, comm_of(runtime_), &status));
    int count = 0;
    DRLLM_MPI_CHECK(MPI_Get_count(&status, MPI_UINT32_T, &count));
    chunk.resize(static_cast<size_t>(count));
    DRLLM_MPI_CHECK(MPI_Recv(chunk.data(), count, MPI_UINT32_T, 0, kReplyTag, comm_of(runtime_), MPI_STATUS_IGNORE));
  }
  if (chunk.empty()) done_here_ = true;  // the server counts this rank as gone when it sends an empty chunk
  return chunk;
}

void WorkQueue::stop() {
  if (runtime_.is_root()) {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  } else if (!done_here_) {
    int64_t message[3] = {kLeaving, 0, 0};
    DRLLM_MPI_CHECK(MPI_Send(message, 3, MPI_INT64_T, 0, kRequestTag, comm_of(runtime_)));
  }
  done_here_ = true;
}

void WorkQueue::finish() {
  done_here_ = true;
  if (server_.joinable()) server_.join();
}

// Polls rather than blocks: a blocking receive spins a core in most MPI libraries, and that core is the one
// rank 0 computes on.
void WorkQueue::serve() {
  // This thread has no caller to throw to: an MPI failure here ends the job with its message (the other ranks
  // would otherwise wait for their replies forever).
  try {
    serve_requests();
  } catch (const std::exception& e) {
    std::cerr << rank_prefix() << "error in the work queue's server: " << e.what() << std::endl;
    MPI_Abort(MPI_COMM_WORLD, 1);  // not checked: it does not return
  }
}

void WorkQueue::serve_requests() {
  int remaining = runtime_.size() - 1;  // ranks still in the queue
  int64_t message[3] = {0, 0, 0};  // {kind, the sender's WorkTally}
  MPI_Request request;
  MPI_Status status;
  DRLLM_MPI_CHECK(MPI_Irecv(message, 3, MPI_INT64_T, MPI_ANY_SOURCE, kRequestTag, comm_of(runtime_), &request));
  while (remaining > 0 && !abandon_) {
    int arrived = 0;
    DRLLM_MPI_CHECK(MPI_Test(&request, &arrived, &status));
    if (!arrived) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    if (message[0] == kAskForWork) {
      std::vector<uint32_t> chunk;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        tally_by_rank_.at(static_cast<size_t>(status.MPI_SOURCE)) = {message[1], message[2]};
        chunk = take_chunk();
      }
      DRLLM_MPI_CHECK(MPI_Send(chunk.data(), static_cast<int>(chunk.size()), MPI_UINT32_T, status.MPI_SOURCE,
                               kReplyTag, comm_of(runtime_)));
      if (chunk.empty()) --remaining;
    } else {
      --remaining;
    }
    if (remaining > 0)
      DRLLM_MPI_CHECK(MPI_Irecv(message, 3, MPI_INT64_T, MPI_ANY_SOURCE, kRequestTag, comm_of(runtime_), &request));
  }
  if (remaining > 0) {  // abandoned while an error unwinds: the job is about to be aborted, so a failure to cancel
    MPI_Cancel(&request);  // changes nothing and is not checked
  }
}

}  // namespace drllm::dist
