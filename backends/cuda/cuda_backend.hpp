#pragma once
// The "cuda" backend: device memory from the stream-ordered pool (cudaMallocAsync, so the
// scheduler's per-forward outputs cost no device-wide synchronisation), copies to and from
// the host, and the one stream every kernel of this backend instance runs on (so copies
// and kernels are ordered without further synchronisation). Device 0.

#include <tern/backend.hpp>

#include <cuda_runtime_api.h>

#include <mutex>

namespace tern::cuda {

class CudaBackend final : public Backend {
public:
  std::string name() const override { return "cuda"; }
  /// Zero-filled like the host backend's memory (Tensor's constructor promises zeros).
  std::shared_ptr<std::byte> allocate(std::size_t bytes) override;
  bool host_accessible() const override { return false; }
  /// Both copies return when the data is there (they synchronise the stream).
  void copy_to_host(const std::byte* src, std::byte* dst, std::size_t bytes) const override;
  void copy_from_host(const std::byte* src, std::byte* dst, std::size_t bytes) const override;

  /// The backend's stream, created on first use (never when the plugin loads).
  cudaStream_t stream() const;

private:
  mutable std::once_flag stream_once_;
  mutable cudaStream_t stream_ = nullptr;
};

} // namespace tern::cuda
