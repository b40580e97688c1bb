#include "dist/runtime.h"

#include <chrono>
#include <cstdlib>
#include <thread>
#include <exception>
#include <iostream>

#include "common/console.h"
#include "common/error.h"
#include "dist/mpi_check.h"
#include "dist/peer_watchdog.h"

namespace drllm::dist {

const char* launcher_name(Launcher launcher) {
  switch (launcher) {
    case Launcher::Single: return "single process";
    case Launcher::Mpirun: return "mpirun";
    case Launcher::Slurm: return "srun";
  }
  return "?";
}

Launcher detect_launcher() {
  auto has = [](const char* name) { return std::getenv(name) != nullptr; };
  // srun sets SLURM_STEP_ID in the tasks it starts; sbatch's batch shell has SLURM_JOB_ID but no step task.
  if (has("SLURM_STEP_ID") && has("SLURM_PROCID") && (has("PMIX_RANK") || has("PMI_RANK") || has("PMI_FD") ||
                                                       has("OMPI_COMM_WORLD_SIZE") || has("SLURM_NTASKS")))
    return Launcher::Slurm;
  if (has("OMPI_COMM_WORLD_SIZE") || has("PMI_SIZE") || has("PMIX_RANK")) return Launcher::Mpirun;
  return Launcher::Single;
}

namespace {
// MPI is initialised once per process and finalised at exit: a command may make several Runtimes in turn (drllm
// demo runs the search, the training and the evaluation in one process), and MPI cannot start twice.
// At exit nothing is left to report an error to: these calls are not checked.
void finalize_at_exit() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return;
  stop_peer_watchdog();
  MPI_Finalize();
}
}  // namespace

Runtime::Runtime() : launcher_(detect_launcher()) {
  if (launcher_ == Launcher::Single) return;
  int initialized = 0;
  bool watchdog_possible = false;
  DRLLM_MPI_CHECK(MPI_Initialized(&initialized));
  if (!initialized) {
    std::atexit(finalize_at_exit);
    // Rank 0 serves the work queue from a second thread while its main thread computes.
    int provided = 0;
    DRLLM_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided));
    DRLLM_CHECK(provided >= MPI_THREAD_SERIALIZED, "this MPI library gives thread level ", provided,
                "; drllm needs MPI_THREAD_SERIALIZED or better");
    // The peer watchdog's thread calls MPI beside the others.
    watchdog_possible = provided == MPI_THREAD_MULTIPLE;
  }
  uses_mpi_ = true;
  // Errors come back as codes (MPI's default handler aborts without a word), which DRLLM_MPI_CHECK turns into a
  // message naming the call.
  DRLLM_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  DRLLM_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  DRLLM_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  world_rank_ = rank_;
  world_size_ = size_;
  comm_handle_ = static_cast<int>(MPI_Comm_c2f(MPI_COMM_WORLD));
  MPI_Comm node;
  DRLLM_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node));
  DRLLM_MPI_CHECK(MPI_Comm_rank(node, &local_rank_));
  DRLLM_MPI_CHECK(MPI_Comm_size(node, &local_size_));
  DRLLM_MPI_CHECK(MPI_Comm_free(&node));
  if (!initialized) {
    if (watchdog_possible)
      start_peer_watchdog();
    else if (rank_ == 0)
      log_warning() << "this MPI library does not give MPI_THREAD_MULTIPLE: no watchdog for hung ranks in this job\n";
  }
}

Runtime::~Runtime() = default;

void Runtime::barrier() const {
  if (uses_mpi_) DRLLM_MPI_CHECK(MPI_Barrier(comm_of(*this)));
}

void Runtime::idle_barrier() const {
  if (!uses_mpi_) return;
  MPI_Request request;
  DRLLM_MPI_CHECK(MPI_Ibarrier(comm_of(*this), &request));
  for (int done = 0; !done;) {
    DRLLM_MPI_CHECK(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int64_t Runtime::sum(int64_t value) const {
  if (!uses_mpi_) return value;
  int64_t total = 0;
  DRLLM_MPI_CHECK(MPI_Allreduce(&value, &total, 1, MPI_INT64_T, MPI_SUM, comm_of(*this)));
  return total;
}

double Runtime::sum(double value) const {
  if (!uses_mpi_) return value;
  double total = 0;
  DRLLM_MPI_CHECK(MPI_Allreduce(&value, &total, 1, MPI_DOUBLE, MPI_SUM, comm_of(*this)));
  return total;
}

double Runtime::max(double value) const {
  if (!uses_mpi_) return value;
  double top = 0;
  DRLLM_MPI_CHECK(MPI_Allreduce(&value, &top, 1, MPI_DOUBLE, MPI_MAX, comm_of(*this)));
  return top;
}

std::vector<std::string> Runtime::gather_to_root(const std::string& text) const {
  if (!uses_mpi_) return {text};
  int length = static_cast<int>(text.size());
  std::vector<int> lengths(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
  DRLLM_MPI_CHECK(MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, comm_of(*this)));
  std::string all;
  if (rank_ == 0) {
    int total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<size_t>(r)] = total;
      total += lengths[static_cast<size_t>(r)];
    }
    all.resize(static_cast<size_t>(total));
  }
  DRLLM_MPI_CHECK(MPI_Gatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, 0,
                        comm_of(*this)));
  std::vector<std::string> out;
  if (rank_ == 0)
    for (int r = 0; r < size_; ++r)
      out.push_back(all.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]),
                               static_cast<size_t>(lengths[static_cast<size_t>(r)])));
  return out;
}

void Runtime::split_for_pipelines(int stages) {
  DRLLM_CHECK(stages >= 1, "--pipeline-stages must be at least 1, got ", stages);
  if (stages == 1) return;
  DRLLM_CHECK(uses_mpi_ && world_size_ % stages == 0, "--pipeline-stages ", stages, " needs a job of a multiple of ",
              stages, " ranks (one per stage of each pipeline); this one has ", world_size_,
              uses_mpi_ ? "" : " (started without mpirun or srun)");
  DRLLM_CHECK(comm_handle_ == static_cast<int>(MPI_Comm_c2f(MPI_COMM_WORLD)), "the job is already split into pipelines");
  const bool drives = world_rank_ % stages == 0;
  MPI_Comm group;
  DRLLM_MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, drives ? 0 : 1, world_rank_, &group));
  DRLLM_MPI_CHECK(MPI_Comm_set_errhandler(group, MPI_ERRORS_RETURN));
  comm_handle_ = static_cast<int>(MPI_Comm_c2f(group));
  if (drives) {
    DRLLM_MPI_CHECK(MPI_Comm_rank(group, &rank_));
    DRLLM_MPI_CHECK(MPI_Comm_size(group, &size_));
  }
}

namespace {
// Asked while a failure is being reported (and by rank_prefix, for messages): these calls are not checked, since
// throwing here would hide the error being reported.
bool parallel_job_running(int* rank, int* size) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return false;
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
  return *size > 1;
}
}  // namespace

std::string rank_prefix() {
  int rank = 0, size = 1;
  return parallel_job_running(&rank, &size) ? cat("[rank ", rank, "/", size, "] ") : "";
}

std::string Runtime::prefix() const { return rank_prefix(); }

void abort_job_if_parallel(int code) {
  int rank = 0, size = 1;
  if (!parallel_job_running(&rank, &size)) return;
  std::cerr << "[rank " << rank << "/" << size << "] stopping the whole job (a rank that fails ends the job; "
            << "rerun the same command to resume)" << std::endl;
  MPI_Abort(MPI_COMM_WORLD, code);
}

}  // namespace drllm::dist
