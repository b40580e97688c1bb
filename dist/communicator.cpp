#include "dist/communicator.h"

#include "common/error.h"
#include "dist/mpi_check.h"

namespace drllm::dist {
namespace {

MPI_Datatype mpi_type(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kLong: return MPI_INT64_T;
    case at::kInt: return MPI_INT32_T;
    case at::kByte: return MPI_UINT8_T;
    default: throw Error(cat("MPI communicator: dtype ", t.scalar_type(), " is not supported"));
  }
}

void check_cpu_contiguous(const at::Tensor& t, const char* what) {
  DRLLM_CHECK(t.device().is_cpu() && t.is_contiguous(), "MPI communicator: ", what,
              " needs a contiguous CPU tensor");
}

}  // namespace

void MpiCommunicator::allreduce_sum(at::Tensor& tensor) {
  if (!runtime_.uses_mpi() || runtime_.size() == 1) return;
  check_cpu_contiguous(tensor, "allreduce");
  DRLLM_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, tensor.data_ptr(), static_cast<int>(tensor.numel()), mpi_type(tensor),
                                MPI_SUM, comm_of(runtime_)));
}

void MpiCommunicator::broadcast(at::Tensor& tensor, int root) {
  if (!runtime_.uses_mpi() || runtime_.size() == 1) return;
  check_cpu_contiguous(tensor, "broadcast");
  DRLLM_MPI_CHECK(MPI_Bcast(tensor.data_ptr(), static_cast<int>(tensor.numel()), mpi_type(tensor), root, comm_of(runtime_)));
}

#ifndef DRLLM_HAVE_NCCL
std::unique_ptr<Communicator> make_communicator(const Runtime& runtime, const at::Device& device) {
  DRLLM_CHECK(!device.is_cuda(), "this drllm was built without NCCL: CUDA tensors cannot be reduced across ranks ",
              "(rebuild with -DDRLLM_CUDA=ON)");
  return std::make_unique<MpiCommunicator>(runtime);
}
#endif

}  // namespace drllm::dist
