// NcclCommunicator: CUDA tensors reduced with NCCL on the current stream of this rank's device. Compiled only
// with CUDA and NCCL (DRLLM_HAVE_NCCL); make_communicator() picks it for CUDA devices.
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include "common/error.h"
#include "dist/communicator.h"

namespace drllm::dist {
namespace {

void check_nccl(ncclResult_t rc, const char* call) {
  if (rc != ncclSuccess) throw Error(cat(call, " failed: ", ncclGetErrorString(rc)));
}

ncclDataType_t nccl_type(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kLong: return ncclInt64;
    case at::kInt: return ncclInt32;
    case at::kByte: return ncclUint8;
    default: throw Error(cat("NCCL communicator: dtype ", t.scalar_type(), " is not supported"));
  }
}

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(const Runtime& runtime, const at::Device& device) : runtime_(runtime), device_(device) {
    ncclUniqueId id;
    if (runtime.is_root()) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    if (runtime.uses_mpi() && runtime.size() > 1)
      check_mpi(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, runtime.comm()), "MPI_Bcast (ncclUniqueId)");
    DRLLM_CHECK(cudaSetDevice(device.index() < 0 ? 0 : device.index()) == cudaSuccess, "cudaSetDevice failed");
    check_nccl(ncclCommInitRank(&comm_, runtime.size(), id, runtime.rank()), "ncclCommInitRank");
  }
  ~NcclCommunicator() override { ncclCommDestroy(comm_); }

  void allreduce_sum(at::Tensor& t) override {
    check(t, "allreduce");
    check_nccl(ncclAllReduce(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()), nccl_type(t), ncclSum,
                             comm_, stream()),
               "ncclAllReduce");
  }
  void broadcast(at::Tensor& t, int root) override {
    check(t, "broadcast");
    check_nccl(ncclBroadcast(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()), nccl_type(t), root, comm_,
                             stream()),
               "ncclBroadcast");
  }
  void barrier() override {
    DRLLM_CHECK(cudaStreamSynchronize(stream()) == cudaSuccess, "cudaStreamSynchronize failed");
    runtime_.barrier();
  }
  std::string name() const override { return "nccl"; }

 private:
  cudaStream_t stream() const { return c10::cuda::getCurrentCUDAStream(device_.index()).stream(); }
  void check(const at::Tensor& t, const char* what) const {
    DRLLM_CHECK(t.is_cuda() && t.is_contiguous(), "NCCL communicator: ", what, " needs a contiguous CUDA tensor");
  }

  const Runtime& runtime_;
  at::Device device_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_communicator(const Runtime& runtime, const at::Device& device) {
  if (device.is_cuda()) return std::make_unique<NcclCommunicator>(runtime, device);
  return std::make_unique<MpiCommunicator>(runtime);
}

}  // namespace drllm::dist
