// Communicator: the collectives data-parallel training needs, on the job's ranks (docs/architecture.md).
//   MpiCommunicator   CPU tensors, MPI_Allreduce / MPI_Bcast (a single process: no-ops)
//   NcclCommunicator  CUDA tensors on this rank's device; the ncclUniqueId is made on rank 0 and broadcast over
//                     MPI. Compiled when the build has CUDA and NCCL (DRLLM_HAVE_NCCL).
// Tensors are reduced in place and must be contiguous; gradients are flattened into one buffer per step so that
// a step costs one collective.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "dist/runtime.h"

namespace drllm::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual void allreduce_sum(at::Tensor& tensor) = 0;
  virtual void broadcast(at::Tensor& tensor, int root) = 0;
  virtual void barrier() = 0;
  virtual std::string name() const = 0;
};

class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(const Runtime& runtime) : runtime_(runtime) {}
  void allreduce_sum(at::Tensor& tensor) override;
  void broadcast(at::Tensor& tensor, int root) override;
  void barrier() override { runtime_.barrier(); }
  std::string name() const override { return "mpi"; }

 private:
  const Runtime& runtime_;
};

// The communicator for tensors on `device`: NCCL for CUDA (throws when the build has no NCCL), MPI for the CPU.
std::unique_ptr<Communicator> make_communicator(const Runtime& runtime, const at::Device& device);

}  // namespace drllm::dist
