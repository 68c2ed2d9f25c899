#pragma once
// PtqHistogram on the device: counts of |x| in `bins` bins over [0, range], binned exactly
// as the PTQ's ValueStatistics bins them (|x| in float32, times `scale` = bins / range in
// float64, truncated; the last bin takes everything above). NaN is not counted. Each block
// counts into its own copy of the histogram in shared memory, then adds it to the result:
// integer counts, so the order of the additions cannot change the result.

#include <cuda_runtime_api.h>

namespace tern::cuda {

/// counts: bins 64-bit counters, overwritten.
cudaError_t launch_histogram(const float* x, long long n, double scale, long long bins, unsigned long long* counts,
                             cudaStream_t stream);

} // namespace tern::cuda
