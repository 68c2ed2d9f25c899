// Step fusion (core/src/scheduler.cpp): cpu runs a Conv and the MaxPool that is its only
// reader as one "Conv+MaxPool" kernel, pooling the convolution's blocked layout; an Add read
// only by a Relu as one "Add+Relu"; a Gemm on a Flatten's input as "Flatten+Gemm".
// Observing the value between them makes the scheduler run the two kernels apart, which the
// suites in cpu_dnnl_test.cpp check against naive loops; fused, the values must be the same
// bits.
#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include "graphs.hpp"

#include <algorithm>

namespace {

using tern::Attributes;
using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using Ints = std::vector<std::int64_t>;
constexpr auto f32 = DataType::Float32;

/// x -> Conv(`channels` outputs, 3x3, pad 1, fused Relu) -> MaxPool(`pool`) -> y, with a
/// dynamic batch. `also_output`: the Conv's output is a graph output too.
Graph conv_pool(std::int64_t in_channels, std::int64_t channels, const Attributes& pool, bool also_output = false) {
  Graph graph;
  graph.add_input("x", f32, Shape{Shape::dynamic, in_channels, 13, 12});
  graph.add_constant("w", tern::test::random_tensor(Shape{channels, in_channels, 3, 3}, 90, -1.0f, 1.0f));
  graph.add_constant("b", tern::test::random_tensor(Shape{channels}, 91, -1.0f, 1.0f));
  Attributes conv;
  conv.set("pads", Ints{1, 1, 1, 1});
  conv.set("activation", std::string("Relu"));
  graph.add_node("Conv", {"x", "w", "b"}, {"c"}, conv, "conv");
  graph.add_node("MaxPool", {"c"}, {"y"}, pool, "pool");
  graph.add_output("y");
  if (also_output) graph.add_output("c");
  return graph;
}

/// Every element equal, bit for bit (NaN excluded: none are made here).
void expect_identical(const Tensor& actual, const Tensor& expected) {
  ASSERT_EQ(actual.shape(), expected.shape());
  const auto a = actual.to_doubles(), e = expected.to_doubles();
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], e[i]) << "element " << i;
}

/// Runs `graph` fused and, with an observer on "c", apart; over batch sizes that change and
/// come back. The observer must see the Conv's output of that same run.
void expect_fused_equals_apart(const Graph& graph, std::int64_t in_channels) {
  tern::SequentialScheduler fused(graph, {"cpu"}), apart(graph, {"cpu"});
  Tensor seen;
  apart.observe("c", [&seen](const tern::Value&, const Tensor& c) { seen = c.clone(); });
  std::uint32_t seed = 92;
  for (const std::int64_t batch : {3, 1, 3}) {
    const std::vector<Tensor> inputs{tern::test::random_tensor(Shape{batch, in_channels, 13, 12}, seed++, -1.0f, 1.0f)};
    const auto expected = apart.forward(inputs);
    const auto actual = fused.forward(inputs);
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) expect_identical(actual[i], expected[i]);
    ASSERT_TRUE(seen.defined());
    EXPECT_EQ(seen.shape(), (Shape{batch, graph.value("w").shape()[0], 13, 12}));
  }
}

Attributes pool_2x2() {
  Attributes pool;
  pool.set("kernel_shape", Ints{2, 2});
  pool.set("strides", Ints{2, 2});
  return pool;
}

TEST(CpuFusion, ConvMaxPoolEqualsTheTwoKernelsApart) { expect_fused_equals_apart(conv_pool(3, 32, pool_2x2()), 3); }

TEST(CpuFusion, ConvMaxPoolWithPaddedChannelBlocksAndCeilMode) {
  // 20 channels pad to 32 in 16-channel blocks; 3x3/2 windows with pads and ceil_mode.
  Attributes pool;
  pool.set("kernel_shape", Ints{3, 3});
  pool.set("strides", Ints{2, 2});
  pool.set("pads", Ints{1, 0, 0, 1});
  pool.set("ceil_mode", std::int64_t{1});
  expect_fused_equals_apart(conv_pool(5, 20, pool), 5);
}

TEST(CpuFusion, ConvMaxPoolWithDilationsAndUnevenWindows) {
  // 12 channels leave part of the last 8- or 16-channel block unused; 2x3 windows, dilated
  // along H, strided along W, pads that windows read past.
  Attributes pool;
  pool.set("kernel_shape", Ints{2, 3});
  pool.set("strides", Ints{1, 2});
  pool.set("dilations", Ints{2, 1});
  pool.set("pads", Ints{0, 1, 1, 0});
  expect_fused_equals_apart(conv_pool(4, 12, pool), 4);
}

TEST(CpuFusion, ConvMaxPoolBelowSixteenChannels) {
  // oneDNN picks the dst layout itself below 16 channels; the pooling follows it.
  expect_fused_equals_apart(conv_pool(2, 6, pool_2x2()), 2);
}

TEST(CpuFusion, ConvOutputThatIsAlsoAGraphOutputIsComputed) {
  // Not fused: the Conv's output has a reader besides the MaxPool (the caller).
  const Graph graph = conv_pool(3, 32, pool_2x2(), /*also_output=*/true);
  const Graph alone = conv_pool(3, 32, pool_2x2());
  tern::SequentialScheduler both(graph, {"cpu"}), apart(alone, {"cpu"});
  Tensor c;
  apart.observe("c", [&c](const tern::Value&, const Tensor& seen) { c = seen.clone(); });
  const std::vector<Tensor> inputs{tern::test::random_tensor(Shape{2, 3, 13, 12}, 99, -1.0f, 1.0f)};
  const auto expected = apart.forward(inputs);
  const auto actual = both.forward(inputs);
  ASSERT_EQ(actual.size(), 2u);
  expect_identical(actual[0], expected[0]);
  expect_identical(actual[1], c);
}

TEST(CpuFusion, FlattenGemmEqualsTheTwoKernelsApart) {
  // The Gemm reads the 4-D input as [N, rest] itself; a Flatten on another axis is kept.
  for (const std::int64_t axis : {1, 2}) {
    Graph graph;
    graph.add_input("x", f32, Shape{Shape::dynamic, 4, 3, 2});
    graph.add_constant("w", tern::test::random_tensor(Shape{5, axis == 1 ? 24 : 6}, 102, -1.0f, 1.0f));
    graph.add_constant("c", tern::test::random_tensor(Shape{5}, 103, -1.0f, 1.0f));
    Attributes flatten, gemm;
    flatten.set("axis", axis);
    gemm.set("transB", std::int64_t{1});
    graph.add_node("Flatten", {"x"}, {"f"}, flatten);
    graph.add_node("Gemm", {"f", "w", "c"}, {"y"}, gemm);
    graph.add_output("y");
    tern::SequentialScheduler fused(graph, {"cpu"}), apart(graph, {"cpu"});
    apart.observe("f", [](const tern::Value&, const Tensor&) {});
    for (const std::int64_t batch : {3, 1}) {
      const std::vector<Tensor> inputs{tern::test::random_tensor(Shape{batch, 4, 3, 2}, 104, -1.0f, 1.0f)};
      expect_identical(fused.forward(inputs)[0], apart.forward(inputs)[0]);
    }
  }
}

TEST(CpuFusion, FusedKernelsNeverWriteOverTheirInputs) {
  // x -> Relu -> Flatten -> Gemm -> Relu -> y: apart, the Gemm's output may take the first
  // Relu's buffer (its last reader is the Flatten); fused, the Gemm reads that buffer, so
  // the memory plan must keep it live one step longer.
  Graph graph;
  graph.add_input("x", f32, Shape{2, 8, 2, 2});
  graph.add_constant("w", tern::test::random_tensor(Shape{32, 32}, 105, -1.0f, 1.0f));
  graph.add_node("Relu", {"x"}, {"r"});
  graph.add_node("Flatten", {"r"}, {"f"});
  graph.add_node("Gemm", {"f", "w"}, {"g"});
  graph.add_node("Relu", {"g"}, {"y"});
  graph.add_output("y");
  tern::SequentialScheduler fused(graph, {"cpu"}), apart(graph, {"cpu"});
  apart.observe("f", [](const tern::Value&, const Tensor&) {});
  const std::vector<Tensor> inputs{tern::test::random_tensor(Shape{2, 8, 2, 2}, 106, -1.0f, 1.0f)};
  expect_identical(fused.forward(inputs)[0], apart.forward(inputs)[0]);
}

TEST(CpuFusion, AddReluEqualsTheTwoKernelsApart) {
  // A residual sum with a broadcast operand (the in-place path) and a plain one.
  for (const Shape& b : {Shape{2, 8, 5, 5}, Shape{8, 1, 1}}) {
    Graph graph;
    graph.add_input("a", f32, Shape{2, 8, 5, 5});
    graph.add_input("b", f32, b);
    graph.add_node("Add", {"a", "b"}, {"c"});
    graph.add_node("Relu", {"c"}, {"y"});
    graph.add_output("y");
    tern::SequentialScheduler fused(graph, {"cpu"}), apart(graph, {"cpu"});
    apart.observe("c", [](const tern::Value&, const Tensor&) {});
    const std::vector<Tensor> inputs{tern::test::random_tensor(Shape{2, 8, 5, 5}, 100, -1.0f, 1.0f),
                                     tern::test::random_tensor(b, 101, -1.0f, 1.0f)};
    const Tensor y = fused.forward(inputs)[0];
    expect_identical(y, apart.forward(inputs)[0]);
    const auto values = y.to_doubles();
    EXPECT_GT(std::count(values.begin(), values.end(), 0.0), 0); // the Relu did clip something
  }
}

} // namespace
