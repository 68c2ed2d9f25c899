// Clipping strategies against independent computations: the error of each candidate
// threshold measured by quantizing explicit sample points (not the strategies' formulas).
#include "clipping/clipping.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace tern::ptq {
namespace {

struct Samples {
  std::vector<double> values; // |x|
  std::vector<double> counts; // their histogram
  double width = 0;
  double max = 0;
};

Samples histogram_of(std::vector<double> values, std::size_t bins) {
  Samples samples{std::move(values), std::vector<double>(bins, 0.0), 0, 0};
  for (const double v : samples.values) samples.max = std::max(samples.max, v);
  samples.width = samples.max / static_cast<double>(bins);
  for (const double v : samples.values)
    samples.counts[std::min(bins - 1, static_cast<std::size_t>(v / samples.width))] += 1;
  return samples;
}

/// Mean squared error of quantizing every sample with threshold c and `levels` steps.
double sample_mse(const std::vector<double>& values, double c, int levels) {
  double error = 0;
  const double step = c / levels;
  for (const double v : values) {
    const double q = std::min(std::nearbyint(v / step), static_cast<double>(levels)) * step;
    error += (v - q) * (v - q);
  }
  return error / static_cast<double>(values.size());
}

std::vector<double> gaussian_magnitudes(std::size_t count, unsigned seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> values;
  for (std::size_t i = 0; i < count; ++i) values.push_back(std::abs(normal(generator)));
  return values;
}

TEST(Clipping, TableNamesEveryStrategy) {
  EXPECT_EQ(clipping_names(), "max, mse, aa, kl, percentile");
  EXPECT_EQ(find_clipping("nope"), nullptr);
  EXPECT_FALSE(find_clipping("max")->needs_histogram);
}

TEST(Clipping, MaxKeepsTheLargestValue) {
  const Samples s = histogram_of({0.1, 0.5, 3.0}, 64);
  EXPECT_DOUBLE_EQ(max_threshold({s.counts, s.width, s.max, 127, 99.99}), 3.0);
}

TEST(Clipping, PercentileIsTheFirstBinEdgeReachingTheShare) {
  // 99 values in [0, 1), one at 10: the 99th percentile lies at the edge of the bin of 0.99.
  std::vector<double> values;
  for (int i = 0; i < 99; ++i) values.push_back(i / 100.0);
  values.push_back(10.0);
  const Samples s = histogram_of(values, 1000); // bins 0.01 wide
  EXPECT_NEAR(percentile_threshold({s.counts, s.width, s.max, 127, 99.0}), 0.99, 1e-9);
  EXPECT_DOUBLE_EQ(percentile_threshold({s.counts, s.width, s.max, 127, 100.0}), 10.0);
}

TEST(Clipping, MseClipsGaussianTailsLikeABruteForceSearch) {
  const std::vector<double> values = gaussian_magnitudes(20000, 7);
  const Samples s = histogram_of(values, 2048);
  for (const int levels : {7, 127}) {
    const double chosen = mse_threshold({s.counts, s.width, s.max, levels, 99.99});
    // Brute force on the samples themselves over a fine grid.
    double best = s.max;
    for (int k = 1; k <= 400; ++k) {
      const double c = s.max * k / 400.0;
      if (sample_mse(values, c, levels) < sample_mse(values, best, levels)) best = c;
    }
    EXPECT_LE(sample_mse(values, chosen, levels), sample_mse(values, best, levels) * 1.02) << levels << " levels";
    EXPECT_LT(chosen, s.max) << "a Gaussian's far tail is always worth clipping";
  }
  // Fewer levels: the optimum clips harder (the known 4-bit ≈ 2.5σ, 8-bit ≈ 4σ pattern).
  EXPECT_LT(mse_threshold({s.counts, s.width, s.max, 7, 99.99}), mse_threshold({s.counts, s.width, s.max, 127, 99.99}));
}

TEST(Clipping, AaMinimisesTheMeanAbsoluteError) {
  const std::vector<double> values = gaussian_magnitudes(20000, 11);
  const Samples s = histogram_of(values, 2048);
  const double chosen = aa_threshold({s.counts, s.width, s.max, 7, 99.99});
  const auto mae = [&](double c) {
    double error = 0;
    for (const double v : values) error += std::abs(v - std::min(std::nearbyint(v / (c / 7)), 7.0) * (c / 7));
    return error;
  };
  for (int k = 1; k <= 100; ++k) EXPECT_LE(mae(chosen), mae(s.max * k / 100.0) * 1.02);
}

TEST(Clipping, KlIgnoresAFewOutliersAndKeepsAUniformRange) {
  std::vector<double> values = gaussian_magnitudes(20000, 3);
  for (int i = 0; i < 5; ++i) values.push_back(40.0); // far outliers
  const Samples spiky = histogram_of(values, 2048);
  EXPECT_LT(kl_threshold({spiky.counts, spiky.width, spiky.max, 127, 99.99}), 10.0);
  std::vector<double> uniform;
  for (int i = 0; i < 20000; ++i) uniform.push_back(i / 20000.0);
  const Samples flat = histogram_of(uniform, 2048);
  EXPECT_GT(kl_threshold({flat.counts, flat.width, flat.max, 127, 99.99}), 0.9);
}

// A ReLU's output: Gaussian magnitudes and, as often as not more, exact zeros. Every
// threshold keeps the zeros exact, so they must not move KL's choice (it chose a tenth of the
// range on resnet_tiny when the zero spike counted).
TEST(Clipping, KlIsNotMovedByTheZerosOfAReLU) {
  const std::vector<double> values = gaussian_magnitudes(20000, 5);
  const Samples plain = histogram_of(values, 2048);
  std::vector<double> relu = values;
  relu.insert(relu.end(), 60000, 0.0);
  const Samples zeros = histogram_of(relu, 2048);
  EXPECT_NEAR(kl_threshold({zeros.counts, zeros.width, zeros.max, 127, 99.99}),
              kl_threshold({plain.counts, plain.width, plain.max, 127, 99.99}), 0.05 * plain.max);
}

// A constant repeated across a feature map (zero padding, a blank background) is a spike
// inside the range, kept within half a step by any threshold above it: it must not pull KL
// below it. The same spike at the top (ReLU6's saturated 6) is clipped by any lower
// threshold: there KL keeps the whole range.
TEST(Clipping, KlKeepsRepeatedConstantsInsideTheRangeAndAtItsTop) {
  const std::vector<double> values = gaussian_magnitudes(20000, 9);
  const Samples plain = histogram_of(values, 2048);
  const double without = kl_threshold({plain.counts, plain.width, plain.max, 127, 99.99});
  std::vector<double> inside = values;
  inside.insert(inside.end(), 20000, 0.6 * without); // one constant, as often as everything else
  const Samples spiked = histogram_of(inside, 2048);
  EXPECT_NEAR(kl_threshold({spiked.counts, spiked.width, spiked.max, 127, 99.99}), without, 0.05 * plain.max);

  std::vector<double> saturated;
  for (int i = 0; i < 20000; ++i) saturated.push_back(6.0 * i / 20000.0);
  saturated.insert(saturated.end(), 5000, 6.0);
  const Samples top = histogram_of(saturated, 2048);
  EXPECT_GT(kl_threshold({top.counts, top.width, top.max, 127, 99.99}), 5.9);
}

} // namespace
} // namespace tern::ptq
