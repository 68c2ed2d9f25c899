#include "range.cuh"

#include <cstdint>

namespace tern::cuda {
namespace {

constexpr int threads = 256;
// Enough blocks to fill an H100/H200 several times over; more only adds partials.
constexpr long long max_blocks = 2048;

struct Partial {
  float min;
  float max;
  float abs_max;
  unsigned long long non_finite;
};

__device__ __forceinline__ void accumulate(Partial& p, float v) {
  p.non_finite += isfinite(v) ? 0 : 1;
  // fminf/fmaxf return the other operand for a NaN: NaN joins no extreme.
  p.min = fminf(p.min, v);
  p.max = fmaxf(p.max, v);
  p.abs_max = fmaxf(p.abs_max, fabsf(v));
}

__device__ __forceinline__ void combine(Partial& p, const Partial& q) {
  p.min = fminf(p.min, q.min);
  p.max = fmaxf(p.max, q.max);
  p.abs_max = fmaxf(p.abs_max, q.abs_max);
  p.non_finite += q.non_finite;
}

__device__ Partial empty_partial() { return {INFINITY, -INFINITY, 0.0f, 0}; }

/// Combines the block's partials into thread 0's.
__device__ Partial block_combine(Partial p) {
  for (int offset = 16; offset > 0; offset /= 2) {
    Partial q;
    q.min = __shfl_down_sync(0xffffffffu, p.min, offset);
    q.max = __shfl_down_sync(0xffffffffu, p.max, offset);
    q.abs_max = __shfl_down_sync(0xffffffffu, p.abs_max, offset);
    q.non_finite = __shfl_down_sync(0xffffffffu, p.non_finite, offset);
    combine(p, q);
  }
  __shared__ Partial warps[threads / 32];
  if (threadIdx.x % 32 == 0) warps[threadIdx.x / 32] = p;
  __syncthreads();
  if (threadIdx.x == 0)
    for (int w = 1; w < threads / 32; ++w) combine(p, warps[w]);
  return p;
}

/// Grid (blocks, channels): block b of channel c covers a share of its outer * inner values.
__global__ void range_partials(const float* x, ChannelLayout l, Partial* partials) {
  Partial p = empty_partial();
  const long long per_channel = l.outer * l.inner;
  const long long first = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
  if (l.channels == 1 && reinterpret_cast<std::uintptr_t>(x) % 16 == 0) {
    // Per tensor: contiguous, so 16-byte loads (what reaches the memory bandwidth).
    const long long vectors = per_channel / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    for (long long i = first; i < vectors; i += step) {
      const float4 v = x4[i];
      accumulate(p, v.x);
      accumulate(p, v.y);
      accumulate(p, v.z);
      accumulate(p, v.w);
    }
    for (long long i = 4 * vectors + first; i < per_channel; i += step) accumulate(p, x[i]);
  } else {
    const long long c = blockIdx.y;
    for (long long j = first; j < per_channel; j += step) {
      const long long o = j / l.inner;
      accumulate(p, x[(o * l.channels + c) * l.inner + (j - o * l.inner)]);
    }
  }
  p = block_combine(p);
  if (threadIdx.x == 0) partials[blockIdx.y * gridDim.x + blockIdx.x] = p;
}

/// One block per channel: combines its `blocks` partials.
__global__ void range_finish(const Partial* partials, int blocks, float* ranges, long long* non_finite) {
  Partial p = empty_partial();
  for (int b = threadIdx.x; b < blocks; b += blockDim.x) combine(p, partials[blockIdx.x * blocks + b]);
  p = block_combine(p);
  if (threadIdx.x != 0) return;
  ranges[3 * blockIdx.x] = p.min;
  ranges[3 * blockIdx.x + 1] = p.max;
  ranges[3 * blockIdx.x + 2] = p.abs_max;
  if (non_finite != nullptr) non_finite[blockIdx.x] = static_cast<long long>(p.non_finite);
}

int blocks_per_channel(const ChannelLayout& l) {
  const long long wanted = (l.outer * l.inner + 16LL * threads - 1) / (16LL * threads);
  const long long cap = max_blocks / l.channels;
  return static_cast<int>(wanted < 1 ? 1 : wanted > cap ? (cap < 1 ? 1 : cap) : wanted);
}

} // namespace

std::size_t range_scratch_bytes(const ChannelLayout& layout) {
  return static_cast<std::size_t>(layout.channels) * static_cast<std::size_t>(blocks_per_channel(layout)) *
         sizeof(Partial);
}

cudaError_t launch_range(const float* x, const ChannelLayout& layout, void* scratch, float* ranges,
                         long long* non_finite, cudaStream_t stream) {
  const int blocks = blocks_per_channel(layout);
  auto* partials = static_cast<Partial*>(scratch);
  range_partials<<<dim3(blocks, static_cast<unsigned>(layout.channels)), threads, 0, stream>>>(x, layout, partials);
  range_finish<<<static_cast<unsigned>(layout.channels), threads, 0, stream>>>(partials, blocks, ranges, non_finite);
  return cudaGetLastError();
}

cudaError_t range_kernel_loadable() {
  cudaFuncAttributes attributes;
  return cudaFuncGetAttributes(&attributes, range_finish);
}

} // namespace tern::cuda
