#pragma once
// PtqFakeQuantize on the device: y = clip(round_half_even(x * factor), lo, hi) * scale in
// float32, bit-identical to the CPU graph Mul -> Round -> Clip -> Mul: each product is one
// correctly rounded float32 multiplication (__fmul_rn: never fused), rintf rounds halves to
// even, and the clip is the cpu Clip's max-then-min (so NaN and -0 against a bound of 0 give lo).

#include <cuda_runtime_api.h>

namespace tern::cuda {

struct FakeQuantizeParams {
  float factor = 1.0f;            ///< per tensor (when `factors` is null)
  float scale = 1.0f;             ///< per tensor
  const float* factors = nullptr; ///< per channel: device arrays of `channels` values
  const float* scales = nullptr;
  long long channels = 1; ///< x seen as [outer, channels, inner]
  long long inner = 1;
  float lo = 0.0f;
  float hi = 0.0f;
};

cudaError_t launch_fake_quantize(const float* x, float* y, long long n, const FakeQuantizeParams& params,
                                 cudaStream_t stream);

} // namespace tern::cuda
