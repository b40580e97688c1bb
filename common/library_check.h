// What a failed call into a system library (MPI, NCCL, CUDA, HDF5) turns into: one drllm::Error that names the
// call as written, the source file and line, this process (rank and host), and the library's own message. The
// library-specific macros (DRLLM_MPI_CHECK in dist/mpi_check.h, DRLLM_NCCL_CHECK and DRLLM_CUDA_CHECK in
// dist/nccl_communicator.cpp, DRLLM_H5_CHECK in formats/hdf5_file.h) fetch that message and call this.
#pragma once

#include <string>

namespace drllm {

// "rank 3 on node17" under a launcher (from its environment: Open MPI, PMI, PMIx, Slurm), else "pid 1234 on node17".
std::string process_identity();

[[noreturn]] void throw_library_failure(const char* library, const char* call, const char* file, int line,
                                        const std::string& library_message);

}  // namespace drllm
