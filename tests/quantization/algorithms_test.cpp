// The PTQ's building blocks against naive computations: streaming statistics, precision
// tags and ranges, cross-layer equalisation (the network's function must not change).
#include "column_means.hpp"
#include "equalization.hpp"
#include "histogram.hpp"
#include "precision.hpp"

#include "graphs.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace tern::ptq {
namespace {

using test::count_of;

/// Both passes over `batches`, as compute_ranges runs them.
ValueStatistics statistics_of(const std::vector<std::vector<float>>& batches, std::size_t bins) {
  ValueStatistics statistics(bins);
  for (const auto& batch : batches)
    statistics.add_extremes(Tensor::from_floats({static_cast<std::int64_t>(batch.size())}, batch));
  for (const auto& batch : batches)
    statistics.add_histogram(Tensor::from_floats({static_cast<std::int64_t>(batch.size())}, batch));
  return statistics;
}

TEST(ValueStatistics, HistogramCoversExactlyTheRangeAndIgnoresHowTheSetIsBatched) {
  const std::vector<std::vector<float>> batches{{0.5f, -1.0f, 0.25f}, {1.5f, -0.1f}, {-3.9f, 2.2f, 0.01f}};
  const ValueStatistics statistics = statistics_of(batches, 8);
  EXPECT_DOUBLE_EQ(statistics.min(), -3.9f);
  EXPECT_DOUBLE_EQ(statistics.max(), 2.2f);
  EXPECT_DOUBLE_EQ(statistics.abs_max(), 3.9f);
  EXPECT_DOUBLE_EQ(statistics.range(), 3.9f);
  // By hand: |x| over [0, 3.9] in 8 bins of 0.4875, the largest in the last bin.
  EXPECT_EQ(statistics.counts(), (std::vector<double>{3, 1, 1, 1, 1, 0, 0, 1}));
  const ValueStatistics one_batch = statistics_of({{0.5f, -1.0f, 0.25f, 1.5f, -0.1f, -3.9f, 2.2f, 0.01f}}, 8);
  EXPECT_EQ(one_batch.counts(), statistics.counts());
  EXPECT_EQ(one_batch.range(), statistics.range());
}

TEST(ValueStatistics, AnAllZeroValueHasRangeOne) {
  const ValueStatistics statistics = statistics_of({{0.0f, 0.0f}}, 4);
  EXPECT_EQ(statistics.range(), 1.0);
  EXPECT_EQ(statistics.counts(), (std::vector<double>{2, 0, 0, 0}));
}

TEST(ValueStatistics, RefusesNonFiniteValues) {
  ValueStatistics statistics(8);
  EXPECT_THROW(statistics.add_extremes(Tensor::from_floats({2}, {1.0f, NAN})), Error);
}

/// E[W x] per output channel of a strided, padded, grouped Conv, by a naive convolution,
/// against Σ w · column means: bias correction relies on their being equal, padding included.
TEST(ColumnMeans, GiveAConvolutionsMeanOutputExactly) {
  constexpr std::int64_t batch = 2, channels = 4, size = 5, outputs = 4, groups = 2, kernel = 3, stride = 2, pad = 1;
  constexpr std::int64_t per_group = channels / groups, out_size = (size + 2 * pad - kernel) / stride + 1;
  std::vector<float> x(static_cast<std::size_t>(batch * channels * size * size));
  std::vector<float> w(static_cast<std::size_t>(outputs * per_group * kernel * kernel));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i)) + 0.5f;
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::cos(1.3f * static_cast<float>(i));
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{batch, channels, size, size});
  graph.add_constant("w", Tensor::from_floats({outputs, per_group, kernel, kernel}, w));
  Attributes attrs;
  attrs.set("group", groups);
  attrs.set("strides", std::vector<std::int64_t>{stride, stride});
  attrs.set("pads", std::vector<std::int64_t>{pad, pad, pad, pad});
  const Node& conv = graph.add_node("Conv", {"x", "w"}, {"y"}, attrs);

  ColumnMeans means(conv, Shape{outputs, per_group, kernel, kernel});
  means.add(Tensor::from_floats({batch, channels, size, size}, x));
  const std::vector<double> columns = means.means();
  ASSERT_EQ(columns.size(), static_cast<std::size_t>(channels * kernel * kernel));
  for (std::int64_t o = 0; o < outputs; ++o) {
    const std::int64_t group = o / (outputs / groups);
    double naive = 0.0; // Σ over samples and positions of the convolution, then the mean
    for (std::int64_t n = 0; n < batch; ++n)
      for (std::int64_t oy = 0; oy < out_size; ++oy)
        for (std::int64_t ox = 0; ox < out_size; ++ox)
          for (std::int64_t ci = 0; ci < per_group; ++ci)
            for (std::int64_t ky = 0; ky < kernel; ++ky)
              for (std::int64_t kx = 0; kx < kernel; ++kx) {
                const std::int64_t iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                if (iy < 0 || iy >= size || ix < 0 || ix >= size) continue;
                const std::int64_t c = group * per_group + ci;
                naive += static_cast<double>(
                             w[static_cast<std::size_t>(((o * per_group + ci) * kernel + ky) * kernel + kx)]) *
                         static_cast<double>(x[static_cast<std::size_t>(((n * channels + c) * size + iy) * size + ix)]);
              }
    naive /= static_cast<double>(batch * out_size * out_size);
    double from_means = 0.0;
    for (std::int64_t ci = 0; ci < per_group; ++ci)
      for (std::int64_t t = 0; t < kernel * kernel; ++t)
        from_means += static_cast<double>(w[static_cast<std::size_t>((o * per_group + ci) * kernel * kernel + t)]) *
                      columns[static_cast<std::size_t>((group * per_group + ci) * kernel * kernel + t)];
    EXPECT_NEAR(from_means, naive, 1e-6) << "output channel " << o;
  }
}

TEST(ColumnMeans, AverageEachFeatureOfAGemmInput) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 3});
  graph.add_constant("w", Tensor::from_floats({4, 3}, std::vector<float>(12, 1.0f)));
  const Node& gemm = graph.add_node("Gemm", {"x", "w"}, {"y"});
  ColumnMeans means(gemm, Shape{4, 3});
  means.add(Tensor::from_floats({2, 3}, {1, 2, 3, 5, 6, 7}));
  EXPECT_EQ(means.means(), (std::vector<double>{3, 4, 5}));
}

TEST(Precision, IntegerRangesAreSymmetricSignedOrFullUnsigned) {
  EXPECT_EQ(int_range(8, false).lo, -127);
  EXPECT_EQ(int_range(8, false).hi, 127);
  EXPECT_EQ(int_range(4, false).hi, 7);
  EXPECT_EQ(int_range(4, true).lo, 0);
  EXPECT_EQ(int_range(4, true).hi, 15);
}

/// Conv(1→3) → Relu → MaxPool → Conv(3→2) → Relu → Flatten → Gemm(→4), random weights with
/// very unequal channel ranges (what equalisation is for).
Graph two_conv_net() {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 1, 6, 6});
  Tensor w1 = test::random_tensor({3, 1, 3, 3}, 1);
  float* w1_data = w1.data<float>();
  for (int i = 0; i < 9; ++i) w1_data[i] *= 20.0f; // channel 0 twenty times wider
  graph.add_constant("w1", w1);
  graph.add_constant("b1", test::random_tensor({3}, 2));
  graph.add_constant("w2", test::random_tensor({2, 3, 3, 3}, 3));
  graph.add_constant("b2", test::random_tensor({2}, 4));
  graph.add_constant("w3", test::random_tensor({4, 2}, 5));
  graph.add_constant("b3", test::random_tensor({4}, 6));
  Attributes pads;
  pads.set("pads", std::vector<std::int64_t>{1, 1, 1, 1});
  graph.add_node("Conv", {"x", "w1", "b1"}, {"c1"}, pads);
  graph.add_node("Relu", {"c1"}, {"r1"});
  Attributes pool;
  pool.set("kernel_shape", std::vector<std::int64_t>{2, 2});
  pool.set("strides", std::vector<std::int64_t>{2, 2});
  graph.add_node("MaxPool", {"r1"}, {"p1"}, pool);
  graph.add_node("Conv", {"p1", "w2", "b2"}, {"c2"});
  graph.add_node("Relu", {"c2"}, {"r2"});
  graph.add_node("Flatten", {"r2"}, {"f"});
  Attributes gemm;
  gemm.set("transB", std::int64_t{1});
  graph.add_node("Gemm", {"f", "w3", "b3"}, {"y"}, gemm);
  graph.add_output("y");
  graph.infer_shapes();
  return graph;
}

std::vector<double> channel_ranges(const Tensor& weights) {
  const std::vector<double> values = weights.to_doubles();
  const std::size_t per_channel = values.size() / static_cast<std::size_t>(weights.shape()[0]);
  std::vector<double> ranges(static_cast<std::size_t>(weights.shape()[0]), 0.0);
  for (std::size_t i = 0; i < values.size(); ++i)
    ranges[i / per_channel] = std::max(ranges[i / per_channel], std::abs(values[i]));
  return ranges;
}

Tensor run_cpu(const Graph& graph, const Tensor& input) {
  return SequentialScheduler(graph, {"cpu"}).forward({input})[0];
}

TEST(CrossLayerEqualization, KeepsTheFunctionAndBalancesChannelRanges) {
  Graph graph = two_conv_net();
  const Tensor input = test::random_tensor({2, 1, 6, 6}, 9);
  const Tensor before = run_cpu(graph, input);
  const std::vector<double> ranges_before = channel_ranges(*graph.value("w1").constant());
  EXPECT_EQ(equalize_cross_layer(graph), 2u); // conv1-conv2 and conv2-gemm (through Flatten)
  const Tensor after = run_cpu(graph, input);
  EXPECT_LT(test::max_abs_diff(before, after), 1e-4);
  const std::vector<double> ranges_after = channel_ranges(*graph.value("w1").constant());
  const auto spread = [](const std::vector<double>& r) {
    return *std::max_element(r.begin(), r.end()) / *std::min_element(r.begin(), r.end());
  };
  EXPECT_GT(spread(ranges_before), 10.0);
  EXPECT_LT(spread(ranges_after), spread(ranges_before) / 3.0);
}

/// Conv(1→4) → Clip(0, hi) → depthwise Conv(4 groups) → Clip(0, hi) → Conv 1×1 (4→2), as
/// MobileNets are built (hi = 6 there), with one wide channel. hi = 1000 is never reached,
/// so the ReLU the Clip becomes computes what it did and the function is unchanged.
Graph depthwise_net() {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 1, 6, 6});
  Tensor w1 = test::random_tensor({4, 1, 3, 3}, 11);
  float* w1_data = w1.data<float>();
  for (int i = 0; i < 9; ++i) w1_data[i] *= 10.0f;
  graph.add_constant("w1", w1);
  graph.add_constant("w2", test::random_tensor({4, 1, 3, 3}, 12));
  graph.add_constant("w3", test::random_tensor({2, 4, 1, 1}, 13));
  graph.add_constant("zero", Tensor::from_floats({}, {0.0f}));
  graph.add_constant("hi", Tensor::from_floats({}, {1000.0f}));
  graph.add_constant("zero2", Tensor::from_floats({}, {0.0f}));
  graph.add_constant("hi2", Tensor::from_floats({}, {1000.0f}));
  graph.add_node("Conv", {"x", "w1"}, {"c1"});
  graph.add_node("Clip", {"c1", "zero", "hi"}, {"r1"});
  Attributes depthwise;
  depthwise.set("group", std::int64_t{4});
  graph.add_node("Conv", {"r1", "w2"}, {"c2"}, depthwise);
  graph.add_node("Clip", {"c2", "zero2", "hi2"}, {"r2"});
  graph.add_node("Conv", {"r2", "w3"}, {"y"});
  graph.add_output("y");
  graph.infer_shapes();
  return graph;
}

TEST(CrossLayerEqualization, EqualisesThroughDepthwiseConvolutionsAndReluSix) {
  Graph graph = depthwise_net();
  const Tensor input = test::random_tensor({2, 1, 6, 6}, 14);
  const Tensor before = run_cpu(graph, input);
  EXPECT_EQ(equalize_cross_layer(graph), 2u); // conv → depthwise, depthwise → pointwise
  EXPECT_EQ(count_of(graph, "Clip"), 0u);     // both ReLU6 became ReLU (AIMET's rule)
  EXPECT_EQ(count_of(graph, "Relu"), 2u);
  EXPECT_LT(test::max_abs_diff(before, run_cpu(graph, input)), 1e-4);
  const std::vector<double> ranges = channel_ranges(*graph.value("w1").constant());
  EXPECT_LT(*std::max_element(ranges.begin(), ranges.end()) / *std::min_element(ranges.begin(), ranges.end()), 5.0);

  // Settled: every channel's range is the same on both sides of both pairs (after a fixed
  // handful of sweeps, equalising one pair still unbalanced the other).
  const std::vector<double> first = channel_ranges(*graph.value("w1").constant());
  const std::vector<double> depthwise_filters = channel_ranges(*graph.value("w2").constant());
  const Tensor& pointwise = *graph.value("w3").constant();
  const std::vector<double> w3 = pointwise.to_doubles();
  const auto outputs = static_cast<std::size_t>(pointwise.shape()[0]),
             inputs = static_cast<std::size_t>(pointwise.shape()[1]);
  for (std::size_t c = 0; c < inputs; ++c) {
    double pointwise_input = 0.0;
    for (std::size_t o = 0; o < outputs; ++o) pointwise_input = std::max(pointwise_input, std::abs(w3[o * inputs + c]));
    EXPECT_NEAR(first[c] / depthwise_filters[c], 1.0, 1e-3) << "channel " << c;
    EXPECT_NEAR(depthwise_filters[c] / pointwise_input, 1.0, 1e-3) << "channel " << c;
  }
}

} // namespace
} // namespace tern::ptq
