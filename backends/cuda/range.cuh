#pragma once
// PtqRange on the device: min, max and max|x| (NaN ignored) and the count of non-finite
// values, per tensor or per channel of x seen as [outer, channels, inner]. Two passes:
// blocks write partial results to a scratch buffer, then one block per channel combines
// them. Min and max do not depend on the order of evaluation, so the result is exactly
// the CPU's.

#include <cuda_runtime_api.h>

#include <cstddef>

namespace tern::cuda {

struct ChannelLayout {
  long long outer = 1;
  long long channels = 1;
  long long inner = 1;
};

/// Bytes of device scratch launch_range needs for `layout`.
std::size_t range_scratch_bytes(const ChannelLayout& layout);

/// ranges: float[channels][3] (min, max, max|x|); non_finite: long long[channels] or null.
/// An empty channel gives +inf, -inf, 0.
cudaError_t launch_range(const float* x, const ChannelLayout& layout, void* scratch, float* ranges,
                         long long* non_finite, cudaStream_t stream);

/// cudaSuccess when this library holds code the current device can run (the probe's check).
cudaError_t range_kernel_loadable();

} // namespace tern::cuda
