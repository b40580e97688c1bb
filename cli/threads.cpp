// Thread budget: cores on the node divided by the ranks on the node (docs/architecture.md), so co-located ranks do not
// oversubscribe the cores. The launchers' variables are read here, once, until dist::Runtime owns this.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "common/error.h"

namespace drllm::cli {
namespace {

int ranks_on_node() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
    if (const char* value = std::getenv(name)) {
      int n = std::atoi(value);
      if (n > 0) return n;
    }
  }
  return 1;
}

}  // namespace

int configure_threads(int requested) {
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // More compute threads than this only oversubscribes the cores (and a huge count exhausts the thread limit).
  const int most = std::max(256, 8 * cores);
  DRLLM_CHECK(requested <= most, "--threads ", requested, ": at most ", most, " on this machine (", cores,
              " cores); 0 picks cores per rank");
  int threads = requested > 0 ? requested : std::max(1, cores / ranks_on_node());
  at::set_num_threads(threads);
  return threads;
}


}  // namespace drllm::cli
