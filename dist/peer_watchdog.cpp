#include "dist/peer_watchdog.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "dist/mpi_check.h"
#include "dist/runtime.h"

namespace drllm::dist {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBeatTag = 7201;
constexpr int64_t kBeat = 0, kLeaving = 1;
constexpr int kHostChars = 64;

double timeout_seconds = kDefaultCollectiveTimeout;

// Who every rank is, exchanged once so that the message can name the rank that went quiet.
struct Peer {
  char host[kHostChars] = {};
  int64_t pid = 0;
};

class Watchdog {
 public:
  Watchdog() {
    DRLLM_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm_));
    DRLLM_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
    DRLLM_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
    DRLLM_MPI_CHECK(MPI_Comm_size(comm_, &size_));
    Peer me;
    gethostname(me.host, kHostChars - 1);
    me.pid = getpid();
    peers_.resize(static_cast<size_t>(size_));
    DRLLM_MPI_CHECK(MPI_Allgather(&me, sizeof me, MPI_BYTE, peers_.data(), sizeof me, MPI_BYTE, comm_));
    // Rank 0 watches everyone, the others rank 0 only.
    const auto now = Clock::now();
    last_heard_.assign(static_cast<size_t>(size_), now);
    watched_.assign(static_cast<size_t>(size_), false);
    for (int r = 0; r < size_; ++r) watched_[static_cast<size_t>(r)] = rank_ == 0 ? r != 0 : r == 0;
    thread_ = std::thread([this] { run(); });
  }

  // Says goodbye to the peers this rank sends heartbeats to, so that they stop watching it, then ends the thread.
  ~Watchdog() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    for (int peer : receivers()) {
      const int64_t leaving = kLeaving;
      MPI_Send(&leaving, 1, MPI_INT64_T, peer, kBeatTag, comm_);  // not checked: the job is ending either way
    }
    // The communicator is left to MPI_Finalize: freeing it is collective, and the peers may be gone already.
  }

 private:
  std::vector<int> receivers() const {
    std::vector<int> out;
    if (rank_ == 0) {
      for (int r = 1; r < size_; ++r) out.push_back(r);
    } else {
      out.push_back(0);
    }
    return out;
  }

  void run() {
    // A heartbeat a few times per timeout, at most every 5 s; the clock is read often enough to end the job
    // within about a tenth of a second of the timeout.
    const auto timeout = std::chrono::duration<double>(timeout_seconds);
    const auto period = std::chrono::duration_cast<Clock::duration>(
        std::min(std::chrono::duration<double>(5.0), timeout / 4));
    auto next_beat = Clock::now();
    std::vector<MPI_Request> sends;
    try {
      while (!stopping_) {
        const auto now = Clock::now();
        if (now >= next_beat) {
          for (int peer : receivers()) {
            sends.emplace_back();
            DRLLM_MPI_CHECK(MPI_Isend(&kBeatValue, 1, MPI_INT64_T, peer, kBeatTag, comm_, &sends.back()));
          }
          next_beat = now + period;
        }
        complete_sends(sends);
        receive_beats();
        check_peers(timeout);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    } catch (const std::exception& e) {
      std::cerr << rank_prefix() << "error in the peer watchdog: " << e.what() << std::endl;
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    // Heartbeats still unsent (a peer stopped taking them) are left to MPI_Finalize: cancelling a send is
    // deprecated, and the job is ending.
  }

  // Heartbeats are small (eager): a send completes once it left, whether or not the peer took it yet.
  void complete_sends(std::vector<MPI_Request>& sends) {
    auto done = [](MPI_Request& request) {
      int flag = 0;
      DRLLM_MPI_CHECK(MPI_Test(&request, &flag, MPI_STATUS_IGNORE));
      return flag != 0;
    };
    sends.erase(std::remove_if(sends.begin(), sends.end(), done), sends.end());
  }

  void receive_beats() {
    for (;;) {
      int arrived = 0;
      MPI_Status status;
      DRLLM_MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, kBeatTag, comm_, &arrived, &status));
      if (!arrived) return;
      int64_t kind = 0;
      DRLLM_MPI_CHECK(MPI_Recv(&kind, 1, MPI_INT64_T, status.MPI_SOURCE, kBeatTag, comm_, MPI_STATUS_IGNORE));
      const auto from = static_cast<size_t>(status.MPI_SOURCE);
      last_heard_[from] = Clock::now();
      if (kind == kLeaving) watched_[from] = false;
    }
  }

  void check_peers(std::chrono::duration<double> timeout) {
    const auto now = Clock::now();
    for (int r = 0; r < size_; ++r) {
      const auto i = static_cast<size_t>(r);
      if (!watched_[i] || now - last_heard_[i] < timeout) continue;
      const Peer& quiet = peers_[i];
      std::cerr << "[rank " << rank_ << "/" << size_ << "] rank " << r << " (pid " << quiet.pid << " on "
                << quiet.host << ") has sent no heartbeat for " << timeout_seconds
                << " s: it is stopped, hung or gone. Ending the job; rerun the same command to resume "
                << "(--collective-timeout sets how long to wait)" << std::endl;
      MPI_Abort(MPI_COMM_WORLD, 3);  // does not return
    }
  }

  static const int64_t kBeatValue;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<Peer> peers_;
  std::vector<Clock::time_point> last_heard_;  // the watchdog thread's alone
  std::vector<bool> watched_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

const int64_t Watchdog::kBeatValue = kBeat;

Watchdog* running = nullptr;

}  // namespace

void set_collective_timeout(double seconds) {
  DRLLM_CHECK(seconds >= 0 && seconds <= 7 * 24 * 3600.0, "--collective-timeout: expected seconds between 0 (off) ",
              "and a week, got ", seconds);
  timeout_seconds = seconds;
}

double collective_timeout() { return timeout_seconds; }

void start_peer_watchdog() {
  int size = 1;
  DRLLM_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
  if (running || size < 2 || timeout_seconds <= 0) return;
  running = new Watchdog();
}

void stop_peer_watchdog() {
  delete running;
  running = nullptr;
}

}  // namespace drllm::dist
