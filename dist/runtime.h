// Runtime: who this process is in a job. Started by a launcher (mpirun, srun, any MPI's hydra), it initialises
// MPI and reads rank, size and the node-local rank (MPI_Comm_split_type); started plainly, it is rank 0 of 1
// and MPI is never touched, so one process needs no launcher. MPI is finalised at process exit (a failing rank
// aborts the job instead: see abort_job_if_parallel). The ranks talk over MPI_COMM_WORLD; <mpi.h> stays inside
// dist/*.cpp (dist/mpi_check.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace drllm::dist {

enum class Launcher { Single, Mpirun, Slurm };
const char* launcher_name(Launcher launcher);

class Runtime {
 public:
  Runtime();
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  Launcher launcher() const { return launcher_; }
  bool uses_mpi() const { return uses_mpi_; }
  bool is_root() const { return rank_ == 0; }

  void barrier() const;
  // A barrier that sleeps while it waits (a blocking MPI barrier spins a core): for ranks that idle while rank 0
  // works alone.
  void idle_barrier() const;
  // The sum over ranks, on every rank (a collective).
  int64_t sum(int64_t value) const;
  double sum(double value) const;
  double max(double value) const;
  // Every rank's text, in rank order, on rank 0 (elsewhere: empty). A collective.
  std::vector<std::string> gather_to_root(const std::string& text) const;
  // "[rank 1/2] " in a parallel job, "" alone: the prefix of every message a rank prints.
  std::string prefix() const;

  // Pipeline stages (dist/pipeline.h): every `stages`-th rank from 0 drives a pipeline, the ranks after it serve
  // its later stages. A collective: afterwards rank(), size() and every collective of this Runtime (and of the
  // work queue and communicators made from it) span the drivers only, so the drivers work as the ranks of a job
  // without pipelines. A serving rank keeps its rank in the job (never the root) and makes no collective calls.
  void split_for_pipelines(int stages);
  int world_rank() const { return world_rank_; }
  int world_size() const { return world_size_; }
  // The MPI communicator of the collectives, as MPI's Fortran handle (keeps <mpi.h> out of this header).
  int communicator_handle() const { return comm_handle_; }

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  int world_rank_ = 0, world_size_ = 1;
  int comm_handle_ = -1;  // -1 until MPI is up
  Launcher launcher_ = Launcher::Single;
  bool uses_mpi_ = false;
};

// Which launcher started this process, from its environment.
Launcher detect_launcher();

// Called by main() when a command failed: in a parallel job, one rank's error must end the others (MPI has no
// recovery, and they would wait for it forever), so this aborts the job; alone it does nothing.
void abort_job_if_parallel(int code);

// "[rank r/n] " while a parallel job runs, else "".
std::string rank_prefix();

}  // namespace drllm::dist
