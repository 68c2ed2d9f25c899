#include "histogram.cuh"

#include <cstdint>

namespace tern::cuda {
namespace {

constexpr int threads = 256;
constexpr long long max_blocks = 1024;
// 32-bit shared counters: 12288 bins fill the 48 KiB every device gives a block by default.
constexpr long long max_shared_bins = 48 * 1024 / 4;

__device__ __forceinline__ long long bin_of(float v, double scale, long long bins) {
  const double position = static_cast<double>(fabsf(v)) * scale;
  return position < static_cast<double>(bins - 1) ? static_cast<long long>(position) : bins - 1;
}

/// `Shared`: count into shared memory first (the default); otherwise straight into `counts`
/// (bin counts too large for shared memory).
template <bool Shared> __global__ void histogram_kernel(const float* x, long long n, double scale, long long bins,
                                                        unsigned long long* counts) {
  extern __shared__ unsigned int local[];
  if (Shared) {
    for (long long b = threadIdx.x; b < bins; b += blockDim.x) local[b] = 0;
    __syncthreads();
  }
  const auto count = [&](float v) {
    if (isnan(v)) return;
    const long long bin = bin_of(v, scale, bins);
    if (Shared)
      atomicAdd(&local[bin], 1u);
    else
      atomicAdd(&counts[bin], 1ull);
  };
  const long long first = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
  long long done = 0;
  if (reinterpret_cast<std::uintptr_t>(x) % 16 == 0) {
    const long long vectors = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    for (long long i = first; i < vectors; i += step) {
      const float4 v = x4[i];
      count(v.x);
      count(v.y);
      count(v.z);
      count(v.w);
    }
    done = 4 * vectors;
  }
  for (long long i = done + first; i < n; i += step) count(x[i]);
  if (Shared) {
    __syncthreads();
    for (long long b = threadIdx.x; b < bins; b += blockDim.x)
      if (local[b] != 0) atomicAdd(&counts[b], static_cast<unsigned long long>(local[b]));
  }
}

} // namespace

cudaError_t launch_histogram(const float* x, long long n, double scale, long long bins, unsigned long long* counts,
                             cudaStream_t stream) {
  const cudaError_t cleared =
      cudaMemsetAsync(counts, 0, static_cast<std::size_t>(bins) * sizeof(unsigned long long), stream);
  if (cleared != cudaSuccess || n == 0) return cleared;
  long long blocks = (n + 16LL * threads - 1) / (16LL * threads);
  blocks = blocks > max_blocks ? max_blocks : blocks;
  // A block counts at most n / blocks + 4 values: far below 2^32 for any tensor that fits a GPU.
  if (bins <= max_shared_bins)
    histogram_kernel<true><<<static_cast<unsigned>(blocks), threads, static_cast<std::size_t>(bins) * 4, stream>>>(
        x, n, scale, bins, counts);
  else
    histogram_kernel<false><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(x, n, scale, bins, counts);
  return cudaGetLastError();
}

} // namespace tern::cuda
