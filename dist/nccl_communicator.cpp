// NcclCommunicator: CUDA tensors reduced with NCCL on the current stream of this rank's device. Compiled only
// with CUDA and NCCL (DRLLM_HAVE_NCCL); make_communicator() picks it for CUDA devices.
// A collective that never completes (a peer hung or died) must not hang the job: after each collective the rank
// polls the stream and ncclCommGetAsyncError, as nccl-tests do, and past the timeout aborts the communicator
// (ncclCommAbort) and throws, which ends the job with a message naming this rank.
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <thread>

#include "common/error.h"
#include "common/library_check.h"
#include "dist/communicator.h"
#include "dist/mpi_check.h"
#include "dist/peer_watchdog.h"

#define DRLLM_NCCL_CHECK(call)                                                                                  \
  do {                                                                                                          \
    const ncclResult_t drllm_nccl_rc_ = (call);                                                                 \
    if (drllm_nccl_rc_ != ncclSuccess)                                                                          \
      ::drllm::throw_library_failure("NCCL", #call, __FILE__, __LINE__, ncclGetErrorString(drllm_nccl_rc_));  \
  } while (0)

#define DRLLM_CUDA_CHECK(call)                                                                                   \
  do {                                                                                                           \
    const cudaError_t drllm_cuda_rc_ = (call);                                                                   \
    if (drllm_cuda_rc_ != cudaSuccess)                                                                           \
      ::drllm::throw_library_failure("CUDA", #call, __FILE__, __LINE__, cudaGetErrorString(drllm_cuda_rc_));    \
  } while (0)

namespace drllm::dist {
namespace {

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
    if (runtime.is_root()) DRLLM_NCCL_CHECK(ncclGetUniqueId(&id));
    if (runtime.uses_mpi() && runtime.size() > 1)
      DRLLM_MPI_CHECK(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD));
    DRLLM_CUDA_CHECK(cudaSetDevice(device.index() < 0 ? 0 : device.index()));
    DRLLM_NCCL_CHECK(ncclCommInitRank(&comm_, runtime.size(), id, runtime.rank()));
  }
  // Not checked: a destructor cannot report, and an aborted communicator is already gone.
  ~NcclCommunicator() override {
    if (comm_) ncclCommDestroy(comm_);
  }

  void allreduce_sum(at::Tensor& t) override {
    check(t, "allreduce");
    DRLLM_NCCL_CHECK(ncclAllReduce(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()), nccl_type(t), ncclSum,
                                   comm_, stream()));
    wait("ncclAllReduce");
  }
  void broadcast(at::Tensor& t, int root) override {
    check(t, "broadcast");
    DRLLM_NCCL_CHECK(ncclBroadcast(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()), nccl_type(t), root,
                                   comm_, stream()));
    wait("ncclBroadcast");
  }
  void barrier() override {
    DRLLM_CUDA_CHECK(cudaStreamSynchronize(stream()));
    runtime_.barrier();
  }
  std::string name() const override { return "nccl"; }

 private:
  cudaStream_t stream() const { return c10::cuda::getCurrentCUDAStream(device_.index()).stream(); }

  // Until the stream has run the collective: an asynchronous NCCL error, or no completion within
  // --collective-timeout (0: no limit; the first collective includes NCCL's own connection set-up, so the default
  // is generous), aborts the communicator and throws.
  void wait(const char* collective) {
    const double timeout = collective_timeout();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                                 std::chrono::duration<double>(timeout));
    for (;;) {
      const cudaError_t state = cudaStreamQuery(stream());
      if (state == cudaSuccess) return;
      if (state != cudaErrorNotReady) DRLLM_CUDA_CHECK(state);
      ncclResult_t async = ncclSuccess;
      DRLLM_NCCL_CHECK(ncclCommGetAsyncError(comm_, &async));
      if (async != ncclSuccess) {
        abort_communicator();
        throw_library_failure("NCCL", collective, __FILE__, __LINE__,
                              cat("asynchronous error: ", ncclGetErrorString(async)));
      }
      if (timeout > 0 && std::chrono::steady_clock::now() > deadline) {
        abort_communicator();
        throw Error(cat(collective, " did not complete within ", timeout, " s (--collective-timeout; ",
                        process_identity(), "): a peer rank is hung or gone; the communicator was aborted"));
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  void abort_communicator() {
    ncclCommAbort(comm_);  // not checked: the communicator is being given up either way
    comm_ = nullptr;
  }
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
