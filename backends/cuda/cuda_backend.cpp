#include "cuda_backend.hpp"

#include "cuda_check.hpp"

#include <algorithm>

namespace tern::cuda {

cudaStream_t CudaBackend::stream() const {
  // Non-blocking: the legacy default stream (other libraries in the process) never
  // serialises with it.
  std::call_once(stream_once_, [this] {
    cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  });
  return stream_;
}

std::shared_ptr<std::byte> CudaBackend::allocate(std::size_t bytes) {
  // At least one byte: a null pointer would read as an undefined tensor.
  const std::size_t size = std::max<std::size_t>(bytes, 1);
  void* memory = nullptr;
  cuda_check(cudaMallocAsync(&memory, size, stream()), "cudaMallocAsync of " + std::to_string(size) + " bytes");
  std::shared_ptr<std::byte> storage(static_cast<std::byte*>(memory), [stream = stream()](std::byte* p) {
    // A deleter cannot throw; the only failure here is the runtime already shut down at exit.
    (void)cudaFreeAsync(p, stream);
  });
  cuda_check(cudaMemsetAsync(memory, 0, size, stream()), "cudaMemsetAsync");
  return storage;
}

void CudaBackend::copy_to_host(const std::byte* src, std::byte* dst, std::size_t bytes) const {
  cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream()), "cudaMemcpyAsync to the host");
  cuda_check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
}

void CudaBackend::copy_from_host(const std::byte* src, std::byte* dst, std::size_t bytes) const {
  cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream()), "cudaMemcpyAsync from the host");
  // The host buffer may be freed or reused as soon as this returns.
  cuda_check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
}

} // namespace tern::cuda
