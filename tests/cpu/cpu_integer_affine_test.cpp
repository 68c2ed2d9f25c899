// Integer Conv, Gemm and MatMul on "cpu" (int8/uint8 X, int8 W, int32 bias) against the
// naive integer loops of integer_reference.hpp, at full 8-bit range (x in [0, 255] or
// [-128, 127], w in [-128, 127]): the int32 accumulation, and the fused requantization
// (requantize_* attributes) against Requantize(naive accumulation). CTest also runs these
// suites with DNNL_MAX_CPU_ISA=AVX2, which selects the exact native path of CPUs without VNNI,
// and oneDNN's AVX2 primitives for uint8 X and weights within ±63 (--optimize-signs
// --reduce-range), which never saturate.
#include "integer_reference.hpp"
#include "op_testing.hpp"

#include <gtest/gtest.h>

namespace {

using tern::Attributes;
using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using tern::test::Values;
using Ints = std::vector<std::int64_t>;

/// A requantization to attach to a node (empty scale: none).
struct Fused {
  std::vector<float> scale;
  std::int64_t lo = -128, hi = 127;
  const char* to = "int8";
};

void add_fused(Attributes& a, const Fused& fused) {
  if (fused.scale.empty()) return;
  a.set("requantize_scale", std::vector<double>(fused.scale.begin(), fused.scale.end()));
  a.set("requantize_lo", fused.lo);
  a.set("requantize_hi", fused.hi);
  a.set("requantize_to", std::string(fused.to));
}

/// Runs `graph` (inputs in order) on "cpu" alone and returns output 0's values, checking its
/// dtype (and, when given, the implementation of its one step).
Values run_graph(const Graph& graph, const std::vector<Tensor>& inputs, DataType expected_type,
                 const char* implementation = nullptr) {
  tern::SequentialScheduler scheduler(graph, {"cpu"});
  for (const tern::PlanStep& step : scheduler.plan()) {
    EXPECT_EQ(step.backend, "cpu");
    if (implementation != nullptr) {
      EXPECT_EQ(step.implementation, implementation);
    }
  }
  // Twice: the second run reuses the primitives (and packed weights) of the first.
  (void)scheduler.forward(inputs);
  const Tensor y = scheduler.forward(inputs).at(0);
  EXPECT_EQ(y.dtype(), expected_type);
  return y.to_int64s();
}

/// The expected output: the accumulation itself, or its requantization along `channels`.
Values expected_output(const Values& accumulation, const Fused& fused, std::int64_t channels, std::int64_t inner) {
  if (fused.scale.empty()) return accumulation;
  return tern::test::requantize(accumulation, fused.scale, channels, inner, fused.lo, fused.hi);
}

DataType output_type(const Fused& fused) {
  if (fused.scale.empty()) return DataType::Int32;
  return *tern::parse_data_type(fused.to);
}

struct ConvCase {
  const char* label;
  tern::test::Conv2d g;
  bool bias = true;
  bool constant_weights = true;
  std::int64_t bias_range = 100000;
  std::int64_t weight_max = 127; ///< weights in [-128, 127], or [-weight_max, weight_max] below 127
};

/// Weights of `count` values within the case's range.
Values weights(std::int64_t count, std::int64_t weight_max, std::uint32_t seed) {
  return tern::test::random_values(count, weight_max == 127 ? -128 : -weight_max, weight_max, seed);
}

/// oneDNN's primitives run a Conv of 8-bit X with weights within ±63 on every CPU (exact
/// without VNNI too: int8 X shifted to uint8 there; a Gemm's int8 A is not; a strided 1x1
/// Conv's pixels gathered by the kernel); the rest depends on the CPU.
const char* expected_implementation(std::int64_t weight_max) { return weight_max <= 63 ? "onednn" : nullptr; }

/// The case as a Conv, or with `channels_last` as a ConvChannelsLast (X and Y [N, H, W, C]).
void check_conv(const ConvCase& c, DataType x_type, const Fused& fused, bool channels_last = false) {
  const auto& g = c.g;
  SCOPED_TRACE(std::string(c.label) + ", X " + std::string(name(x_type)) + (channels_last ? ", channels last" : ""));
  const Shape x_shape = channels_last ? Shape{g.n, g.h, g.w, g.c} : Shape{g.n, g.c, g.h, g.w};
  const Shape w_shape{g.m, g.c / g.group, g.kh, g.kw};
  const Values x_nchw = tern::test::random_x(x_shape.numel(), x_type, 11);
  const Values x = channels_last ? tern::test::nhwc(x_nchw, g.n, g.c, g.h, g.w) : x_nchw;
  const Values w = weights(w_shape.numel(), c.weight_max, 12);
  const Values b = c.bias ? tern::test::random_values(g.m, -c.bias_range, c.bias_range, 13) : Values{};
  Graph graph;
  graph.add_input("x", x_type, x_shape);
  std::vector<Tensor> inputs{tern::test::typed(x_shape, x_type, x)};
  if (c.constant_weights) {
    graph.add_constant("w", tern::test::typed(w_shape, DataType::Int8, w));
  } else {
    graph.add_input("w", DataType::Int8, w_shape);
    inputs.push_back(tern::test::typed(w_shape, DataType::Int8, w));
  }
  if (c.bias) graph.add_constant("b", tern::test::typed(Shape{g.m}, DataType::Int32, b));
  Attributes a = tern::test::attrs({{"group", g.group},
                                    {"strides", Ints{g.stride_h, g.stride_w}},
                                    {"pads", Ints{g.pad_top, g.pad_left, g.pad_bottom, g.pad_right}},
                                    {"dilations", Ints{g.dilation_h, g.dilation_w}}});
  add_fused(a, fused);
  graph.add_node(channels_last ? "ConvChannelsLast" : "Conv",
                 c.bias ? std::vector<std::string>{"x", "w", "b"} : std::vector<std::string>{"x", "w"}, {"y"}, a,
                 "conv");
  graph.add_output("y");
  const Values expected_nchw = expected_output(tern::test::conv2d(g, x_nchw, w, b), fused, g.m, g.out_h() * g.out_w());
  const Values expected =
      channels_last ? tern::test::nhwc(expected_nchw, g.n, g.m, g.out_h(), g.out_w()) : expected_nchw;
  EXPECT_EQ(run_graph(graph, inputs, output_type(fused),
                      c.constant_weights ? expected_implementation(c.weight_max) : nullptr),
            expected);
}

std::vector<ConvCase> conv_cases() {
  using tern::test::Conv2d;
  return {
      {"3x3 same padding", Conv2d{2, 3, 9, 9, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
      {"LeNet-sized 32->64, no bias", Conv2d{2, 32, 13, 13, 64, 3, 3}, false},
      {"strides 2, asymmetric pads", Conv2d{1, 4, 10, 11, 8, 3, 2, 1, 2, 2, 0, 1, 2, 0}},
      {"grouped", Conv2d{2, 8, 7, 7, 6, 3, 3, 2, 1, 1, 1, 1, 1, 1}},
      {"depthwise", Conv2d{2, 16, 8, 8, 16, 3, 3, 16, 1, 1, 1, 1, 1, 1}},
      {"dilated", Conv2d{1, 4, 9, 9, 4, 3, 3, 1, 1, 1, 0, 0, 0, 0, 2, 2}},
      {"computed weights", Conv2d{1, 5, 6, 6, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1}, true, false},
      {"1x1", Conv2d{2, 16, 7, 7, 24, 1, 1}},
      {"1x1 expansion", Conv2d{2, 16, 7, 7, 96, 1, 1}},
      {"1x1 strides 2 (ResNet's projections)", Conv2d{2, 8, 8, 8, 16, 1, 1, 1, 2, 2}},
      {"1x1 strides 2, no bias", Conv2d{2, 8, 8, 8, 16, 1, 1, 1, 2, 2}, false},
      {"1x1 strides 3 by 2, odd sizes", Conv2d{2, 8, 10, 9, 16, 1, 1, 1, 3, 2}},
      {"3x3 strides 2, no pads", Conv2d{2, 8, 9, 9, 16, 3, 3, 1, 2, 2, 0, 0, 0, 0}},
  };
}

TEST(IntegerConv, AccumulatesExactly) {
  for (const ConvCase& c : conv_cases())
    for (const DataType x_type : {DataType::UInt8, DataType::Int8}) check_conv(c, x_type, {});
}

// Weights within ±63 (--reduce-range), every activation value: with uint8 X oneDNN's int8
// primitives run them on every CPU, and without VNNI their 16-bit pair sums must not
// saturate; int8 X runs on oneDNN too: as it is with VNNI, without it shifted to uint8
// (the bias compensating 128 · sum(W), pads filled with the shifted zero, 128).
TEST(IntegerConv, SevenBitWeightsRunOnOneDnnExactly) {
  for (ConvCase c : conv_cases()) {
    c.weight_max = 63;
    for (const DataType x_type : {DataType::UInt8, DataType::Int8}) {
      check_conv(c, x_type, {});
      check_conv(c, x_type, {{0.0023f}, -128, 127, "int8"});
    }
  }
}

// ConvChannelsLast (what channels_last_ops writes where oneDNN runs a Conv):
// the same cases on [N, H, W, C] X and Y, read and written in place by the primitive, with
// the int8 shift's padded copy, the strided 1x1 gather and the requantization after the
// primitive (bias near 2^24) done on channels-last pixels.
TEST(IntegerConv, ChannelsLastMatchesNaiveLoops) {
  const Fused per_channel{{0.0011f, 0.0007f, 0.0023f, 0.0005f, 0.0013f, 0.0031f, 0.0009f, 0.0017f}};
  for (ConvCase c : conv_cases()) {
    if (!c.constant_weights) continue; // no kernel runs those channels last: the recipe leaves them be
    c.weight_max = 63;
    for (const DataType x_type : {DataType::UInt8, DataType::Int8}) {
      check_conv(c, x_type, {}, true);
      check_conv(c, x_type, {{0.0023f}, -128, 127, "int8"}, true);
    }
  }
  for (const DataType x_type : {DataType::UInt8, DataType::Int8}) {
    const tern::test::Conv2d g{2, 4, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    check_conv({"per channel", g, true, true, 100000, 63}, x_type, per_channel, true);
    check_conv({"bias near 2^24", g, true, true, 16000000, 63}, x_type, per_channel, true);
  }
}

// A 1-D Conv pads one axis only: the shifted int8 X's buffer must pad it alone (a 2-D
// convolution of height 1 is the reference).
TEST(IntegerConv, OneDimensionalPaddedConvOfInt8RunsExactly) {
  const tern::test::Conv2d g{2, 4, 1, 11, 6, 1, 3, 1, 1, 2, 0, 2, 0, 1};
  const Values x = tern::test::random_x(g.n * g.c * g.w, DataType::Int8, 41);
  const Values w = weights(g.m * g.c * g.kw, 63, 42);
  const Values b = tern::test::random_values(g.m, -1000, 1000, 43);
  Graph graph;
  graph.add_input("x", DataType::Int8, Shape{g.n, g.c, g.w});
  graph.add_constant("w", tern::test::typed(Shape{g.m, g.c, g.kw}, DataType::Int8, w));
  graph.add_constant("b", tern::test::typed(Shape{g.m}, DataType::Int32, b));
  graph.add_node("Conv", {"x", "w", "b"}, {"y"},
                 tern::test::attrs({{"strides", Ints{g.stride_w}}, {"pads", Ints{g.pad_left, g.pad_right}}}), "conv");
  graph.add_output("y");
  EXPECT_EQ(run_graph(graph, {tern::test::typed(Shape{g.n, g.c, g.w}, DataType::Int8, x)}, DataType::Int32, "onednn"),
            tern::test::conv2d(g, x, w, b));
}

TEST(IntegerConv, FusedRequantizeEqualsRequantizedAccumulation) {
  const Fused per_channel_int8{{0.0011f, 0.0007f, 0.0023f, 0.0005f, 0.0013f, 0.0031f, 0.0009f, 0.0017f}};
  const Fused per_tensor_uint8{{0.0019f}, 0, 255, "uint8"};
  const Fused relu_range{{0.0041f}, 0, 127, "int8"};
  for (const DataType x_type : {DataType::UInt8, DataType::Int8}) {
    const tern::test::Conv2d g{2, 4, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    check_conv({"per channel", g}, x_type, per_channel_int8);
    check_conv({"per tensor uint8", g}, x_type, per_tensor_uint8);
    check_conv({"relu range", g}, x_type, relu_range);
    check_conv({"no bias", g, false}, x_type, per_channel_int8);
    // A bias near 2^24 defeats the proof that oneDNN's float32 bias sum is exact: the
    // int32 accumulation is requantized after the primitive instead.
    check_conv({"bias near 2^24", g, true, true, 16000000}, x_type, {{1.0f / 65536}});
    check_conv({"computed weights", g, true, false}, x_type, per_tensor_uint8);
  }
}

struct GemmCase {
  const char* label;
  Shape a;
  std::int64_t n;
  bool trans_b = false;
  bool bias = true;
  std::int64_t bias_range = 100000;
  std::int64_t weight_max = 127;
};

void check_gemm(const GemmCase& c, DataType a_type, const Fused& fused) {
  SCOPED_TRACE(std::string(c.label) + ", A " + std::string(name(a_type)));
  const std::int64_t rows = c.a[0], k = c.a.numel() / rows;
  const Shape b_shape = c.trans_b ? Shape{c.n, k} : Shape{k, c.n};
  const Values a = tern::test::random_x(c.a.numel(), a_type, 21);
  const Values b = weights(b_shape.numel(), c.weight_max, 22);
  const Values bias = c.bias ? tern::test::random_values(c.n, -c.bias_range, c.bias_range, 23) : Values{};
  Graph graph;
  graph.add_input("a", a_type, c.a);
  graph.add_constant("b", tern::test::typed(b_shape, DataType::Int8, b));
  if (c.bias) graph.add_constant("c", tern::test::typed(Shape{c.n}, DataType::Int32, bias));
  Attributes attrs = tern::test::attrs({{"transB", std::int64_t{c.trans_b ? 1 : 0}}});
  add_fused(attrs, fused);
  graph.add_node("Gemm", c.bias ? std::vector<std::string>{"a", "b", "c"} : std::vector<std::string>{"a", "b"}, {"y"},
                 attrs, "gemm");
  graph.add_output("y");
  const Values expected = expected_output(tern::test::matmul(a, b, bias, rows, k, c.n, c.trans_b), fused, c.n, 1);
  EXPECT_EQ(run_graph(graph, {tern::test::typed(c.a, a_type, a)}, output_type(fused),
                      c.weight_max <= 63 && a_type == DataType::UInt8 ? "onednn" : nullptr),
            expected);
}

TEST(IntegerGemm, AccumulatesExactly) {
  for (const DataType a_type : {DataType::UInt8, DataType::Int8}) {
    check_gemm({"plain", Shape{7, 33}, 10}, a_type, {});
    check_gemm({"transB", Shape{64, 200}, 17, true}, a_type, {});
    check_gemm({"rank-4 A flattened, no bias", Shape{3, 4, 5, 5}, 12, false, false}, a_type, {});
  }
}

TEST(IntegerGemm, SevenBitWeightsRunOnOneDnnExactly) {
  for (const DataType a_type : {DataType::UInt8, DataType::Int8}) {
    check_gemm({"plain", Shape{7, 33}, 10, false, true, 100000, 63}, a_type, {});
    check_gemm({"transB", Shape{64, 200}, 17, true, true, 100000, 63}, a_type, {});
    check_gemm({"per column", Shape{9, 40}, 4, false, true, 100000, 63}, a_type,
               {{0.0021f, 0.0013f, 0.0049f, 0.0007f}});
  }
}

TEST(IntegerGemm, FusedRequantizeEqualsRequantizedAccumulation) {
  for (const DataType a_type : {DataType::UInt8, DataType::Int8}) {
    check_gemm({"per column", Shape{9, 40}, 4}, a_type, {{0.0021f, 0.0013f, 0.0049f, 0.0007f}});
    check_gemm({"transB to uint8", Shape{9, 40}, 6, true}, a_type, {{0.0033f}, 0, 255, "uint8"});
    check_gemm({"bias near 2^24", Shape{5, 30}, 3, false, true, 16000000}, a_type, {{1.0f / 131072}});
  }
}

TEST(IntegerGemm, AccumulationBeyondTwoToThe24) {
  // Extreme operands: |sum| reaches 1400 * 255 * 128, beyond float32's exact integers.
  // int32 stays exact; the fused form yields float32(acc) * scale, one rounding each.
  const std::int64_t k = 1400, n = 3;
  for (const DataType a_type : {DataType::UInt8, DataType::Int8}) {
    const Values a(static_cast<std::size_t>(2 * k), a_type == DataType::UInt8 ? 255 : -128);
    Values b(static_cast<std::size_t>(k * n));
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = i % n == 0 ? 127 : i % n == 1 ? -128 : (i % 7 == 0 ? 127 : -3);
    for (const Fused& fused : {Fused{}, Fused{{1.0f / 3000}, -100000, 100000, "int32"}}) {
      Graph graph;
      graph.add_input("a", a_type, Shape{2, k});
      graph.add_constant("b", tern::test::typed(Shape{k, n}, DataType::Int8, b));
      Attributes attrs;
      add_fused(attrs, fused);
      graph.add_node("Gemm", {"a", "b"}, {"y"}, attrs, "gemm");
      graph.add_output("y");
      const Values expected = expected_output(tern::test::matmul(a, b, {}, 2, k, n), fused, n, 1);
      EXPECT_EQ(run_graph(graph, {tern::test::typed(Shape{2, k}, a_type, a)}, output_type(fused)), expected);
    }
  }
}

void check_matmul(const Shape& a_shape, const Shape& b_shape, bool constant_b, DataType a_type, const Fused& fused) {
  SCOPED_TRACE(a_shape.to_string() + " x " + b_shape.to_string());
  const Values a = tern::test::random_x(a_shape.numel(), a_type, 31);
  const Values b = tern::test::random_values(b_shape.numel(), -128, 127, 32);
  Graph graph;
  graph.add_input("a", a_type, a_shape);
  std::vector<Tensor> inputs{tern::test::typed(a_shape, a_type, a)};
  if (constant_b) {
    graph.add_constant("b", tern::test::typed(b_shape, DataType::Int8, b));
  } else {
    graph.add_input("b", DataType::Int8, b_shape);
    inputs.push_back(tern::test::typed(b_shape, DataType::Int8, b));
  }
  Attributes attrs;
  add_fused(attrs, fused);
  graph.add_node("MatMul", {"a", "b"}, {"y"}, attrs, "matmul");
  graph.add_output("y");
  // Naive: one product per batch entry, B broadcast when it has no batch dimensions.
  const std::int64_t k = a_shape[a_shape.rank() - 1], m = a_shape[a_shape.rank() - 2];
  const std::int64_t n = b_shape[b_shape.rank() - 1];
  const std::int64_t batch = a_shape.numel() / (m * k), b_batch = b_shape.numel() / (k * n);
  Values expected;
  for (std::int64_t t = 0; t < batch; ++t) {
    const Values a_t(a.begin() + t * m * k, a.begin() + (t + 1) * m * k);
    const std::int64_t bt = b_batch == 1 ? 0 : t;
    const Values b_t(b.begin() + bt * k * n, b.begin() + (bt + 1) * k * n);
    const Values y_t = tern::test::matmul(a_t, b_t, {}, m, k, n);
    expected.insert(expected.end(), y_t.begin(), y_t.end());
  }
  EXPECT_EQ(run_graph(graph, inputs, output_type(fused)), expected_output(expected, fused, n, 1));
}

TEST(IntegerMatMul, AccumulatesExactly) {
  for (const DataType a_type : {DataType::UInt8, DataType::Int8}) {
    check_matmul(Shape{6, 50}, Shape{50, 9}, true, a_type, {});
    check_matmul(Shape{2, 5, 24}, Shape{24, 7}, true, a_type, {});
    check_matmul(Shape{3, 4, 16}, Shape{3, 16, 5}, false, a_type, {});
  }
}

TEST(IntegerMatMul, FusedRequantizeEqualsRequantizedAccumulation) {
  for (const DataType a_type : {DataType::UInt8, DataType::Int8}) {
    check_matmul(Shape{2, 5, 24}, Shape{24, 3}, true, a_type, {{0.011f, 0.007f, 0.013f}});
    check_matmul(Shape{8, 64}, Shape{64, 4}, false, a_type, {{0.0017f}, 0, 255, "uint8"});
  }
}

} // namespace
