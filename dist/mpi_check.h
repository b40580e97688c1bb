// DRLLM_MPI_CHECK(MPI_Xxx(...)): every MPI call goes through it (the communicator's error handler is
// MPI_ERRORS_RETURN, so a failure comes back as a code): a failure throws drllm::Error naming the call, file:line,
// rank, host and MPI's own message. Private to dist/: <mpi.h> is included only by dist/*.cpp.
#pragma once

#include <mpi.h>

#include <string>

#include "common/library_check.h"
#include "dist/runtime.h"

namespace drllm::dist {

inline std::string mpi_error_string(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) return "MPI error code " + std::to_string(rc);
  return std::string(text, static_cast<size_t>(length));
}

// The communicator a Runtime's collectives use: the job's, or the pipeline drivers' (Runtime::split_for_pipelines).
inline MPI_Comm comm_of(const Runtime& runtime) { return MPI_Comm_f2c(runtime.communicator_handle()); }

}  // namespace drllm::dist

#define DRLLM_MPI_CHECK(call)                                                                       \
  do {                                                                                              \
    const int drllm_mpi_rc_ = (call);                                                               \
    if (drllm_mpi_rc_ != MPI_SUCCESS)                                                               \
      ::drllm::throw_library_failure("MPI", #call, __FILE__, __LINE__,                              \
                                     ::drllm::dist::mpi_error_string(drllm_mpi_rc_));               \
  } while (0)
