#pragma once
// PtqClipSearch on the device: the clipping threshold the PTQ's CPU strategies pick
// (quantization/src/clipping/lp_norm.cpp for mse/aa, kl.cpp for kl) over the same candidate
// grid, one thread per candidate, then one thread scans the errors in the CPU's order with
// its strict '<' (ties and NaN resolve as on the CPU). Each thread replays the CPU's
// float64 operations in the CPU's order, unfused (the target builds with -fmad=false), so
// mse and aa errors are bit-identical; kl's logarithm is CUDA's log (within 1 ulp of glibc's),
// so its thresholds agree unless two candidates' divergences tie within that.

#include <cuda_runtime_api.h>

namespace tern::cuda {

enum class ClipMode { Mse, Aa, Kl };

/// threshold: one double on the device.
cudaError_t launch_clip_search(const double* counts, long long bins, ClipMode mode, long long levels, double bin_width,
                               double abs_max, double* threshold, cudaStream_t stream);

} // namespace tern::cuda
