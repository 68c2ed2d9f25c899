// channels_last_ops on "cpu": which Convs it turns, the Transposes it leaves (at
// the edges of the integer region only), the per-channel axes it renumbers, and that the
// rewritten graph computes, bit for bit, what the graph computed before (every node of it
// integer arithmetic, each kernel tested against naive loops in its own suite).
#include "graphs.hpp"
#include "integer_reference.hpp"
#include "op_testing.hpp"

#include <tern/recipes.hpp>

#include <gtest/gtest.h>

#include <algorithm>

namespace {

using tern::Attributes;
using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using tern::test::count_of;
using tern::test::Values;
using Ints = std::vector<std::int64_t>;

/// The requantization a Conv writes its 8-bit output with (tern::fuse_requantize's attributes).
void requantize_output(Attributes& a, std::vector<double> scale, std::int64_t lo, std::int64_t hi, const char* to) {
  a.set("requantize_scale", std::move(scale));
  a.set("requantize_lo", lo);
  a.set("requantize_hi", hi);
  a.set("requantize_to", std::string(to));
}

/// An int8 graph as the PTQ writes it, built up by a test: float "x" [2, 8, 7, 6] quantized
/// to int8 "q", then constants and nodes. Weights lie within ±weight_max (±63: oneDNN runs
/// the Convs on every CPU).
struct Int8Net {
  Graph graph;
  std::int64_t weight_max = 63;

  Int8Net() {
    graph.add_input("x", DataType::Float32, Shape{2, 8, 7, 6});
    graph.add_node("Requantize", {"x"}, {"q"},
                   tern::test::attrs({{"scale", std::vector<double>{40.0}},
                                      {"lo", std::int64_t{-128}},
                                      {"hi", std::int64_t{127}},
                                      {"to", std::string("int8")}}));
  }
  void weights(const char* name, const Shape& shape, std::uint32_t seed) {
    graph.add_constant(name,
                       tern::test::typed(shape, DataType::Int8,
                                         tern::test::random_values(shape.numel(), -weight_max, weight_max, seed)));
  }
  /// Conv `y` (the node's name too) of x by w, requantized to uint8 or giving int32 sums.
  void conv(const char* x, const char* w, const char* y, Ints pads, bool requantized) {
    Attributes a = tern::test::attrs({{"pads", std::move(pads)}});
    if (requantized) requantize_output(a, {0.003}, 0, 255, "uint8");
    graph.add_node("Conv", {x, w}, {y}, a, y);
  }
};

/// An int8 region: a 3x3 Conv to uint8, a 1x1 Conv to int8, a residual RequantizeAdd with
/// per-channel scales along axis 1, a Relu, and a strided depthwise Conv giving int32 sums.
/// Outputs: the Relu's int8 "z" and the sums "y".
Graph int8_region(std::int64_t weight_max) {
  constexpr std::int64_t c = 8;
  Int8Net net;
  net.weight_max = weight_max;
  Graph& graph = net.graph;
  net.weights("w1", Shape{c, c, 3, 3}, 1);
  graph.add_constant("b1", tern::test::typed(Shape{c}, DataType::Int32, tern::test::random_values(c, -900, 900, 2)));
  net.weights("w2", Shape{c, c, 1, 1}, 3);
  net.weights("w3", Shape{c, 1, 3, 3}, 4);
  Attributes conv1 = tern::test::attrs({{"pads", Ints{1, 1, 1, 1}}});
  requantize_output(conv1, {0.004}, 0, 255, "uint8");
  graph.add_node("Conv", {"q", "w1", "b1"}, {"a"}, conv1, "conv1");
  Attributes conv2;
  requantize_output(conv2, {0.01, 0.02, 0.015, 0.03, 0.005, 0.01, 0.02, 0.025}, -128, 127, "int8");
  graph.add_node("Conv", {"a", "w2"}, {"b"}, conv2, "conv2");
  graph.add_node("RequantizeAdd", {"b", "q"}, {"r"},
                 tern::test::attrs({{"a_scale", std::vector<double>{9, 10, 11, 12, 13, 14, 15, 16}},
                                    {"b_scale", std::vector<double>{8}},
                                    {"axis", std::int64_t{1}},
                                    {"scale", std::vector<double>{0.07}},
                                    {"lo", std::int64_t{-128}},
                                    {"hi", std::int64_t{127}},
                                    {"to", std::string("int8")}}),
                 "add");
  graph.add_node("Relu", {"r"}, {"z"});
  graph.add_node("Conv", {"z", "w3"}, {"y"},
                 tern::test::attrs({{"group", c}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}}), "conv3");
  graph.add_output("z");
  graph.add_output("y");
  return std::move(net.graph);
}

std::vector<Tensor> run(const Graph& graph, const Tensor& x) {
  tern::SequentialScheduler scheduler(graph, {"cpu"});
  return scheduler.forward({x});
}

/// The implementation "cpu" picks for node `name` of `graph`.
std::string implementation_of(const Graph& graph, const std::string& name) {
  tern::SequentialScheduler scheduler(graph, {"cpu"});
  for (const tern::PlanStep& step : scheduler.plan())
    if (step.node->name() == name) return step.implementation;
  return {};
}

const Tensor input = Tensor::from_floats(Shape{2, 8, 7, 6}, [] {
  std::vector<float> values(2 * 8 * 7 * 6);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((i * 37) % 101) / 31.0f - 1.6f;
  return values;
}());

TEST(IntegerChannelsLast, TheRegionRunsChannelsLastWithTransposesAtItsEdges) {
  Graph graph = int8_region(63);
  const std::vector<Tensor> before = run(graph, input);
  EXPECT_EQ(tern::channels_last_ops(graph, {"cpu"}), 3U);
  EXPECT_EQ(count_of(graph, "Conv"), 0U);
  EXPECT_EQ(count_of(graph, "ConvChannelsLast"), 3U);
  // In: the quantized x, read by conv1 and the RequantizeAdd through one Transpose. Out:
  // one for each graph output ("z" also feeds conv3, which reads the Relu's own output).
  EXPECT_EQ(count_of(graph, "Transpose"), 3U);
  const tern::Node* add = graph.find_node("add");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->attr<std::int64_t>("axis"), 3); // the channels of [N, H, W, C]
  EXPECT_EQ(add->output()->shape(), (Shape{2, 7, 6, 8}));
  EXPECT_EQ(graph.value("z").shape(), (Shape{2, 8, 7, 6}));
  EXPECT_EQ(graph.value("y").shape(), (Shape{2, 8, 4, 3}));

  const std::vector<Tensor> after = run(graph, input);
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].dtype(), before[i].dtype());
    EXPECT_EQ(after[i].shape(), before[i].shape());
    EXPECT_EQ(after[i].to_int64s(), before[i].to_int64s()) << "output " << i;
  }
}

// A pool and a Concat between Convs (the shapes of LeNet's and Inception's blocks): the
// MaxPool runs as MaxPoolChannelsLast, the Concat joins channels along the last axis, and
// the region has one Transpose in and one out.
TEST(IntegerChannelsLast, PoolsAndConcatsBetweenConvsStayChannelsLast) {
  Int8Net net;
  Graph& graph = net.graph;
  net.weights("w1", Shape{8, 8, 3, 3}, 5);
  net.weights("w2", Shape{4, 8, 1, 1}, 6);
  net.weights("w3", Shape{4, 8, 3, 3}, 7);
  net.weights("w4", Shape{6, 8, 1, 1}, 8);
  net.conv("q", "w1", "a", {1, 1, 1, 1}, true);
  graph.add_node("MaxPool", {"a"}, {"p"}, tern::test::attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}),
                 "pool");
  net.conv("p", "w2", "b", {0, 0, 0, 0}, true);
  net.conv("p", "w3", "c", {1, 1, 1, 1}, true);
  graph.add_node("Concat", {"b", "c"}, {"cat"}, tern::test::attrs({{"axis", std::int64_t{1}}}), "concat");
  net.conv("cat", "w4", "y", {0, 0, 0, 0}, false);
  graph.add_output("y");

  const std::vector<Tensor> before = run(graph, input);
  EXPECT_EQ(tern::channels_last_ops(graph, {"cpu"}), 4U);
  EXPECT_EQ(graph.find_node("pool")->op_type(), "MaxPoolChannelsLast");
  EXPECT_EQ(graph.find_node("concat")->attr<std::int64_t>("axis"), 3);
  EXPECT_EQ(count_of(graph, "Transpose"), 2U);
  const std::vector<Tensor> after = run(graph, input);
  EXPECT_EQ(after.at(0).shape(), (Shape{2, 6, 3, 3}));
  EXPECT_EQ(after.at(0).to_int64s(), before.at(0).to_int64s());
}

// DenseNet's blocks: every Concat reads the features of all earlier layers, so each
// feature has several readers; the Concats and the Requantizes before them still run
// channels last (each Concat feeds a Conv).
TEST(IntegerChannelsLast, ConcatsSharingInputsStayChannelsLast) {
  Int8Net net;
  Graph& graph = net.graph;
  net.weights("w1", Shape{4, 8, 3, 3}, 9);
  net.weights("w2", Shape{4, 4, 1, 1}, 10);
  net.weights("w3", Shape{4, 8, 3, 3}, 11);
  net.weights("w4", Shape{5, 12, 1, 1}, 12);
  const Attributes channels = tern::test::attrs({{"axis", std::int64_t{1}}});
  net.conv("q", "w1", "a", {1, 1, 1, 1}, true);
  net.conv("a", "w2", "b", {0, 0, 0, 0}, true);
  // Each Concat reads each earlier feature through a Requantize of its own (the scale of
  // that Concat's output), as tern quantize writes it.
  const auto rescale = [&](const char* x, const char* y, double scale) {
    graph.add_node("Requantize", {x}, {y},
                   tern::test::attrs({{"scale", std::vector<double>{scale}},
                                      {"lo", std::int64_t{0}},
                                      {"hi", std::int64_t{255}},
                                      {"to", std::string("uint8")}}));
  };
  rescale("a", "a1", 0.5);
  rescale("a", "a2", 0.25);
  rescale("b", "b2", 0.75);
  graph.add_node("Concat", {"a1", "b"}, {"ab"}, channels, "concat1");
  net.conv("ab", "w3", "c", {1, 1, 1, 1}, true);
  graph.add_node("Concat", {"a2", "b2", "c"}, {"abc"}, channels, "concat2");
  net.conv("abc", "w4", "y", {0, 0, 0, 0}, false);
  graph.add_output("y");

  const std::vector<Tensor> before = run(graph, input);
  EXPECT_EQ(tern::channels_last_ops(graph, {"cpu"}), 4U);
  EXPECT_EQ(graph.find_node("concat1")->attr<std::int64_t>("axis"), 3);
  EXPECT_EQ(graph.find_node("concat2")->attr<std::int64_t>("axis"), 3);
  EXPECT_EQ(count_of(graph, "Transpose"), 2U);
  const std::vector<Tensor> after = run(graph, input);
  EXPECT_EQ(after.at(0).to_int64s(), before.at(0).to_int64s());
}

// Weights beyond ±63: without VNNI "cpu" runs such a Conv on its native kernels, which have
// no channels-last form, so the recipe must leave it a Conv there (and turn it with VNNI).
TEST(IntegerChannelsLast, OnlyConvsTheBackendRunsChannelsLastAreTurned) {
  Graph graph = int8_region(127);
  const bool onednn = implementation_of(graph, "conv1") == "onednn";
  const std::vector<Tensor> before = run(graph, input);
  tern::channels_last_ops(graph, {"cpu"});
  EXPECT_EQ(graph.find_node("conv1")->op_type(), onednn ? "ConvChannelsLast" : "Conv");
  const std::vector<Tensor> after = run(graph, input);
  for (std::size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i].to_int64s(), before[i].to_int64s());
}

TEST(IntegerChannelsLast, UnknownBackendsAreLeftAlone) {
  Graph unknown = int8_region(63);
  EXPECT_EQ(tern::channels_last_ops(unknown, {"no-such-backend"}), 0U);
  EXPECT_EQ(count_of(unknown, "Conv"), 3U);
  EXPECT_EQ(count_of(unknown, "Transpose"), 0U);
}

// --- float regions -------------------------------------------------------------------------

/// Float "x" [2, 8, 7, 6] and constants for float Convs, built up by a test.
struct FloatNet {
  Graph graph;
  std::uint32_t seed = 1;

  FloatNet() { graph.add_input("x", DataType::Float32, Shape{2, 8, 7, 6}); }
  /// Conv `y` (the node's name too): `x` by random [m, c, k, k] weights and a bias, pads k / 2.
  void conv(const char* x, const char* y, std::int64_t m, std::int64_t c, std::int64_t k, Attributes a = {}) {
    const std::string w = std::string(y) + "_w", b = std::string(y) + "_b";
    graph.add_constant(w, tern::test::random_tensor(Shape{m, c, k, k}, seed++, -0.5f, 0.5f));
    graph.add_constant(b, tern::test::random_tensor(Shape{m}, seed++, -0.5f, 0.5f));
    const std::int64_t p = k / 2;
    a.set("pads", Ints{p, p, p, p});
    graph.add_node("Conv", {x, w, b}, {y}, a, y);
  }
};

/// Same shapes, every element within 1e-5 absolute (oneDNN's nhwc and blocked kernels sum
/// in different orders).
void expect_close(const std::vector<Tensor>& actual, const std::vector<Tensor>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i].shape(), expected[i].shape()) << "output " << i;
    const auto a = actual[i].to_doubles(), e = expected[i].to_doubles();
    for (std::size_t k = 0; k < a.size(); ++k) ASSERT_NEAR(a[k], e[k], 1e-5) << "output " << i << ", element " << k;
  }
}

// A MobileNetV3/EfficientNet-like block: SiLU (x * Sigmoid(x), x read twice), squeeze-
// excitation (x * HardSigmoid(Conv(Relu(Conv(GlobalAveragePool(x)))))), a residual Add and
// a MaxPool. Every op has a channels-last form, so only the input and the output transpose.
TEST(FloatChannelsLast, SiluAndSqueezeExcitationRunChannelsLastThroughout) {
  FloatNet net;
  Graph& graph = net.graph;
  net.conv("x", "c1", 8, 8, 3);
  graph.add_node("Sigmoid", {"c1"}, {"s"});
  graph.add_node("Mul", {"c1", "s"}, {"silu"});
  graph.add_node("GlobalAveragePool", {"silu"}, {"g"});
  net.conv("g", "squeeze", 4, 8, 1, tern::test::attrs({{"activation", std::string("Relu")}}));
  net.conv("squeeze", "excite", 8, 4, 1);
  graph.add_node("HardSigmoid", {"excite"}, {"h"});
  graph.add_node("Mul", {"silu", "h"}, {"se"});
  net.conv("se", "c2", 8, 8, 1);
  graph.add_node("Add", {"c2", "x"}, {"sum"});
  graph.add_node("MaxPool", {"sum"}, {"y"}, tern::test::attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}));
  graph.add_output("y");

  const std::vector<Tensor> before = run(graph, input);
  EXPECT_EQ(tern::channels_last_ops(graph, {"cpu"}), 4U);
  EXPECT_EQ(count_of(graph, "ConvChannelsLast"), 4U);
  EXPECT_EQ(count_of(graph, "GlobalAveragePoolChannelsLast"), 1U);
  EXPECT_EQ(count_of(graph, "MaxPoolChannelsLast"), 1U);
  // x, read by c1 and the Add through one Transpose; y.
  EXPECT_EQ(count_of(graph, "Transpose"), 2U);
  expect_close(run(graph, input), before);
}

// Two readers of one Conv whose results never meet (two graph outputs): turning both would
// leave a Transpose after each, one more than the one before them, so both stay.
TEST(FloatChannelsLast, ReadersThatDoNotMeetKeepTheirTranspose) {
  FloatNet net;
  Graph& graph = net.graph;
  net.conv("x", "c", 8, 8, 3);
  graph.add_node("Relu", {"c"}, {"r"}, {}, "relu");
  graph.add_node("Sigmoid", {"c"}, {"s"}, {}, "sigmoid");
  graph.add_output("r");
  graph.add_output("s");
  const std::vector<Tensor> before = run(graph, input);
  EXPECT_EQ(tern::channels_last_ops(graph, {"cpu"}), 1U);
  EXPECT_EQ(count_of(graph, "Transpose"), 2U);
  EXPECT_EQ(graph.find_node("relu")->input(0)->producer()->op_type(), "Transpose");
  EXPECT_EQ(graph.find_node("sigmoid")->input(0)->producer()->op_type(), "Transpose");
  expect_close(run(graph, input), before);
}

} // namespace
