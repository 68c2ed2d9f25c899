// The PTQ's building blocks against naive computations: streaming statistics, precision
// tags and ranges, cross-layer equalisation (the network's function must not change).
#include "equalization.hpp"
#include "histogram.hpp"
#include "precision.hpp"

#include "graphs.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace tern::ptq {
namespace {

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

TEST(ChannelMeans, AveragesEachChannelOverBatchAndSpace) {
  // [N=2, C=2, 2 elements]: channel 0 holds 1,2,5,6 and channel 1 holds 3,4,7,8.
  ChannelMeans means;
  means.add(Tensor::from_floats({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}), 2, 2);
  EXPECT_EQ(means.means(), (std::vector<double>{3.5, 5.5}));
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
  EXPECT_EQ(equalize_cross_layer(graph, false), 2u); // conv1-conv2 and conv2-gemm (through Flatten)
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

std::size_t count_of(const Graph& graph, const std::string& op) {
  const std::vector<Node*> nodes = graph.nodes();
  return static_cast<std::size_t>(
      std::count_if(nodes.begin(), nodes.end(), [&](const Node* node) { return node->op_type() == op; }));
}

TEST(CrossLayerEqualization, EqualisesThroughDepthwiseConvolutionsAndReluSix) {
  Graph graph = depthwise_net();
  const Tensor input = test::random_tensor({2, 1, 6, 6}, 14);
  const Tensor before = run_cpu(graph, input);
  EXPECT_EQ(equalize_cross_layer(graph, false), 2u); // conv → depthwise, depthwise → pointwise
  EXPECT_EQ(count_of(graph, "Clip"), 0u);            // both ReLU6 became ReLU (AIMET's rule)
  EXPECT_EQ(count_of(graph, "Relu"), 2u);
  EXPECT_LT(test::max_abs_diff(before, run_cpu(graph, input)), 1e-4);
  const std::vector<double> ranges = channel_ranges(*graph.value("w1").constant());
  EXPECT_LT(*std::max_element(ranges.begin(), ranges.end()) / *std::min_element(ranges.begin(), ranges.end()), 5.0);

  // Per-channel weight scales give each depthwise filter its own scale: no pair with it.
  Graph per_channel = depthwise_net();
  EXPECT_EQ(equalize_cross_layer(per_channel, true), 0u);
  EXPECT_EQ(count_of(per_channel, "Clip"), 2u);
}

} // namespace
} // namespace tern::ptq
