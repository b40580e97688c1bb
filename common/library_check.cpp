#include "common/library_check.h"

#include <unistd.h>

#include <cstdlib>

#include "common/error.h"

namespace drllm {

std::string process_identity() {
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* rank = std::getenv(name)) return cat("rank ", rank, " on ", host);
  return cat("pid ", getpid(), " on ", host);
}

void throw_library_failure(const char* library, const char* call, const char* file, int line,
                           const std::string& library_message) {
  throw Error(cat(library, " call ", call, " failed at ", file, ":", line, " (", process_identity(),
                  "): ", library_message));
}

}  // namespace drllm
