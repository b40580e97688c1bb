// WorkQueue: hands a job's items (example indices) to ranks in small chunks as they ask, so that a slow example
// holds back only its own rank. Rank 0 owns the list and serves the other ranks from a thread while it works
// through the same list itself. Which rank gets which item depends on timing; results must not (every random
// choice of the search is seeded by the item, never by the rank).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "dist/runtime.h"

namespace drllm::dist {

// What a rank reports with each request: items it has finished, and of those how many the job counts as notable
// (the search: examples whose best plan beats the default).
struct WorkTally {
  int64_t finished = 0;
  int64_t notable = 0;
};

class WorkQueue {
 public:
  // A collective: every rank constructs it; `items` is read on rank 0 only.
  WorkQueue(const Runtime& runtime, std::vector<uint32_t> items, int chunk_size);
  ~WorkQueue();  // stops the server thread
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // The next chunk for this rank; empty when the work is done (or stop() was called on rank 0).
  std::vector<uint32_t> next();
  // This rank's tally so far. It rides on the rank's next request, so that rank 0 can show the job's progress
  // (tally()) without a collective.
  void report(WorkTally here);
  // Rank 0: the sum of every rank's tally as of its last request (rank 0's own as of its last report()).
  WorkTally tally();
  // This rank takes no more work (a stop signal). On rank 0 it also ends the handing out to the others.
  void stop();
  // Waits until every rank has left the queue (rank 0; a no-op elsewhere). Call before the job's last collective.
  void finish();

 private:
  std::vector<uint32_t> take_chunk();  // rank 0: under mutex_
  void serve();                        // rank 0's server thread: serve_requests, or end the job
  void serve_requests();

  const Runtime& runtime_;
  int chunk_size_;
  std::mutex mutex_;
  std::deque<uint32_t> items_;
  std::vector<WorkTally> tally_by_rank_;  // rank 0: under mutex_
  bool closed_ = false;       // rank 0: hand out nothing more
  bool done_here_ = false;    // this rank has left the queue
  std::atomic<bool> abandon_{false};
  WorkTally here_;  // this rank's, as of its last report()
  std::thread server_;
};

}  // namespace drllm::dist
