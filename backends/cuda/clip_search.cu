#include "clip_search.cuh"

namespace tern::cuda {
namespace {

// lp_norm.cpp's grid: 512 thresholds over (0, max|x|]. kl.cpp's grid (every used / 256 bins
// from levels + 1 up to the last used bin) has at most 512 candidates too.
constexpr int candidates = 512;

/// lp_norm.cpp's lp_error, operation for operation.
template <int Exponent>
__device__ double lp_error(const double* counts, long long bins, long long levels, double bin_width, double threshold) {
  const double step = threshold / static_cast<double>(levels);
  double error = 0;
  for (long long bin = 0; bin < bins; ++bin) {
    const double count = counts[bin];
    if (count == 0) continue;
    const double x = (static_cast<double>(bin) + 0.5) * bin_width;
    const double rounded = rint(x / step); // std::nearbyint in the default rounding mode
    const double level = static_cast<double>(levels) < rounded ? static_cast<double>(levels) : rounded; // std::min
    const double miss = fabs(x - level * step);
    error += count * (Exponent == 2 ? miss * miss : miss);
  }
  return error;
}

/// kl.cpp's without_point_masses, bin by bin: a bin over 4 times both neighbours counts as
/// much as the larger of them.
__device__ double kept_count(const double* counts, long long bins, long long i) {
  const double left = i > 0 ? counts[i - 1] : 0.0;
  const double right = i + 1 < bins ? counts[i + 1] : 0.0;
  const double neighbours = i == 0 ? right : (left > right ? left : right); // std::max
  return counts[i] > 4 * neighbours && neighbours > 0 ? neighbours : counts[i];
}

/// kl.cpp's divergence of the candidate `edge`, its vectors replaced by loops over `counts`
/// that add in the same order: the slice holds the kept counts, the outliers the real ones.
__device__ double kl_error(const double* counts, long long bins, long long levels, long long edge) {
  const auto kept = [&](long long i) { return kept_count(counts, bins, i); };
  double outliers_folded = kept(edge - 1); // reference.back() += counts[i] for i >= edge
  for (long long i = edge; i < bins; ++i) outliers_folded += counts[i];
  const auto reference = [&](long long i) { return i == edge - 1 ? outliers_folded : kept(i); };
  double p_total = 0;
  for (long long i = 0; i < edge; ++i) p_total += reference(i);
  // quantized_image: each level's mass spread evenly over its non-empty bins.
  double q_total = 0;
  for (long long level = 0; level < levels; ++level) {
    const long long begin = level * edge / levels, end = (level + 1) * edge / levels;
    double mass = 0;
    long long occupied = 0;
    for (long long i = begin; i < end; ++i) {
      mass += kept(i);
      occupied += kept(i) > 0 ? 1 : 0;
    }
    for (long long i = begin; i < end; ++i) q_total += kept(i) > 0 ? mass / static_cast<double>(occupied) : 0.0;
  }
  double divergence = 0;
  for (long long level = 0; level < levels; ++level) {
    const long long begin = level * edge / levels, end = (level + 1) * edge / levels;
    double mass = 0;
    long long occupied = 0;
    for (long long i = begin; i < end; ++i) {
      mass += kept(i);
      occupied += kept(i) > 0 ? 1 : 0;
    }
    for (long long i = begin; i < end; ++i) {
      if (reference(i) == 0) continue;
      const double image = kept(i) > 0 ? mass / static_cast<double>(occupied) : 0.0;
      const double p = reference(i) / p_total;
      const double q = image / q_total;
      divergence += q > 0 ? p * log(p / q) : p * 20.0;
    }
  }
  return divergence;
}

__global__ void __launch_bounds__(candidates)
    clip_search_kernel(const double* counts, long long bins, ClipMode mode, long long levels, double bin_width,
                       double abs_max, double* threshold) {
  __shared__ double errors[candidates];
  __shared__ long long used;
  if (mode != ClipMode::Kl) {
    // Candidate 0 is max|x| itself (the CPU's starting point), k > 0 is max|x| * k / 512.
    for (int k = threadIdx.x; k < candidates; k += blockDim.x) {
      const double t = k == 0 ? abs_max : abs_max * k / candidates;
      errors[k] = mode == ClipMode::Mse ? lp_error<2>(counts, bins, levels, bin_width, t)
                                        : lp_error<1>(counts, bins, levels, bin_width, t);
    }
    __syncthreads();
    if (threadIdx.x != 0) return;
    int best = 0;
    for (int k = 1; k < candidates; ++k)
      if (errors[k] < errors[best]) best = k;
    *threshold = best == 0 ? abs_max : abs_max * best / candidates;
    return;
  }
  const long long kl_levels = levels + 1; // the zero level counts too
  if (threadIdx.x == 0) {
    long long u = bins;
    while (u > 1 && counts[u - 1] == 0) --u;
    used = u;
  }
  __syncthreads();
  if (used <= kl_levels) {
    if (threadIdx.x == 0) *threshold = abs_max;
    return;
  }
  const long long stride = used / 256 > 1 ? used / 256 : 1;
  const long long count = (used - kl_levels) / stride + 1;
  for (long long j = threadIdx.x; j < count; j += blockDim.x)
    errors[j] = kl_error(counts, bins, kl_levels, kl_levels + j * stride);
  __syncthreads();
  if (threadIdx.x != 0) return;
  double best_divergence = INFINITY;
  long long best_edge = used;
  for (long long j = 0; j < count; ++j)
    if (errors[j] < best_divergence) {
      best_divergence = errors[j];
      best_edge = kl_levels + j * stride;
    }
  const double clipped = static_cast<double>(best_edge) * bin_width;
  *threshold = clipped < abs_max ? clipped : abs_max; // std::min(abs_max, clipped)
}

} // namespace

cudaError_t launch_clip_search(const double* counts, long long bins, ClipMode mode, long long levels, double bin_width,
                               double abs_max, double* threshold, cudaStream_t stream) {
  clip_search_kernel<<<1, candidates, 0, stream>>>(counts, bins, mode, levels, bin_width, abs_max, threshold);
  return cudaGetLastError();
}

} // namespace tern::cuda
