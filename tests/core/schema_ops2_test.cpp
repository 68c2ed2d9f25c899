// Shape and dtype inference of the second batch of built-in schemas (math, axes, data,
// Resize, quantization), the public window geometry and the fused-activation attributes.
// Expectations are worked out by hand from the ONNX operator spec.
#include <tern/graph.hpp>
#include <tern/window.hpp>

#include <gtest/gtest.h>

#include "schema_testing.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using tern::Attributes;
using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using namespace tern::test;

namespace {} // namespace

TEST(SchemaOps2, RegistersEveryOperator) {
  const std::vector<std::string> types = tern::registered_op_types();
  for (const char* op : {"HardSigmoid",
                         "HardSwish",
                         "Tanh",
                         "Exp",
                         "Sqrt",
                         "Neg",
                         "Abs",
                         "Pow",
                         "Min",
                         "Max",
                         "Sum",
                         "Mean",
                         "Squeeze",
                         "Unsqueeze",
                         "Shape",
                         "Gather",
                         "Slice",
                         "ReduceMean",
                         "Resize",
                         "Constant",
                         "QuantizeLinear",
                         "DequantizeLinear"})
    EXPECT_NE(std::find(types.begin(), types.end(), op), types.end()) << op;
  const tern::OpSchema& hard_sigmoid = tern::schema("HardSigmoid");
  EXPECT_DOUBLE_EQ(std::get<double>(*hard_sigmoid.attribute("alpha")->default_value), 0.2);
  EXPECT_DOUBLE_EQ(std::get<double>(*hard_sigmoid.attribute("beta")->default_value), 0.5);
  EXPECT_EQ(std::get<std::string>(*tern::schema("Resize").attribute("mode")->default_value), "nearest");
  EXPECT_EQ(std::get<std::string>(*tern::schema("Resize").attribute("coordinate_transformation_mode")->default_value),
            "half_pixel");
  EXPECT_EQ(std::get<std::int64_t>(*tern::schema("QuantizeLinear").attribute("axis")->default_value), 1);
}

TEST(SchemaOps2, UnaryDtypes) {
  Graph tanh = one_node("Tanh", Shape{N, 3});
  EXPECT_EQ(inferred(tanh), (Ints{N, 3}));
  Graph abs = one_node("Abs", Shape{4}, {}, {}, DataType::UInt8);
  EXPECT_EQ(inferred(abs), (Ints{4}));
  EXPECT_EQ(abs.value("y").dtype(), DataType::UInt8);
  Graph neg = one_node("Neg", Shape{4}, {}, {}, DataType::UInt8);
  expect_inference_error(neg, {"node 'n'", "signed"});
  Graph exp = one_node("Exp", Shape{4}, {}, {}, DataType::Int32);
  expect_inference_error(exp, {"node 'n'", "float32 or float64"});
}

TEST(SchemaOps2, PowBroadcastsAndKeepsTheBaseDtype) {
  // [2,1,4] ^ [3,1]: right-aligned, 1s stretch: [2,3,4]; an int64 exponent is allowed.
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 1, 4});
  graph.add_input("e", DataType::Int64, Shape{3, 1});
  graph.add_node("Pow", {"x", "e"}, {"y"}, {}, "n");
  EXPECT_EQ(inferred(graph), (Ints{2, 3, 4}));
  EXPECT_EQ(graph.value("y").dtype(), DataType::Float32);
}

TEST(SchemaOps2, VariadicMeanBroadcastsEveryInput) {
  Graph graph;
  graph.add_input("a", DataType::Float32, Shape{3, 1});
  graph.add_input("b", DataType::Float32, Shape{1, 4});
  graph.add_input("c", DataType::Float32, Shape{4});
  graph.add_node("Mean", {"a", "b", "c"}, {"y"}, {}, "n");
  graph.add_node("Max", {"a"}, {"single"});
  graph.infer_shapes();
  EXPECT_EQ(graph.value("y").shape().dims(), (Ints{3, 4}));
  EXPECT_EQ(graph.value("single").shape().dims(), (Ints{3, 1}));

  Graph mismatch;
  mismatch.add_input("a", DataType::Float32, Shape{3});
  mismatch.add_input("b", DataType::Float32, Shape{3});
  mismatch.add_input("c", DataType::Float32, Shape{4});
  mismatch.add_node("Sum", {"a", "b", "c"}, {"y"}, {}, "n");
  expect_inference_error(mismatch, {"node 'n'", "3 vs 4", "'c'"});

  Graph types;
  types.add_input("a", DataType::Float32, Shape{3});
  types.add_input("b", DataType::Float64, Shape{3});
  types.add_node("Min", {"a", "b"}, {"y"}, {}, "n");
  expect_inference_error(types, {"node 'n'", "'b'", "dtype"});
}

TEST(SchemaOps2, SqueezeAndUnsqueezeWithNegativeAxes) {
  Graph one = with_ints("Squeeze", Shape{1, 3, 1, 5}, {-2});
  EXPECT_EQ(inferred(one), (Ints{1, 3, 5}));
  Graph two = with_ints("Squeeze", Shape{1, 3, 1, 5}, {0, -2});
  EXPECT_EQ(inferred(two), (Ints{3, 5}));
  Graph all = one_node("Squeeze", Shape{1, 3, 1, 5});
  EXPECT_EQ(inferred(all), (Ints{3, 5}));
  Graph not_one = with_ints("Squeeze", Shape{1, 3, 1, 5}, {1});
  expect_inference_error(not_one, {"node 'n'", "size is 3"});
  Graph dynamic = one_node("Squeeze", Shape{N, 3});
  expect_inference_error(dynamic, {"node 'n'", "dynamic"});

  // Unsqueeze's axes index the output (rank 2 + 2 = 4): -1 is 3, -2 is 2.
  Graph last = with_ints("Unsqueeze", Shape{3, 4}, {-1});
  EXPECT_EQ(inferred(last), (Ints{3, 4, 1}));
  Graph ends = with_ints("Unsqueeze", Shape{3, 4}, {0, -1});
  EXPECT_EQ(inferred(ends), (Ints{1, 3, 4, 1}));
  Graph middle = with_ints("Unsqueeze", Shape{3, 4}, {1, -2});
  EXPECT_EQ(inferred(middle), (Ints{3, 1, 1, 4}));
  Graph twice = with_ints("Unsqueeze", Shape{3, 4}, {1, -3});
  expect_inference_error(twice, {"node 'n'", "twice"});
}

TEST(SchemaOps2, AxesMustBeKnownAndPresent) {
  Graph missing = one_node("Unsqueeze", Shape{3, 4});
  expect_inference_error(missing, {"node 'n'", "Unsqueeze takes 2"});
  // Axes computed at run time: the output rank is known, its sizes only when running.
  Graph runtime;
  runtime.add_input("x", DataType::Float32, Shape{1, 3});
  runtime.add_input("axes", DataType::Int64, Shape{1});
  runtime.add_node("Squeeze", {"x", "axes"}, {"y"}, {}, "n");
  EXPECT_EQ(inferred(runtime), (Ints{N}));
  Graph unsqueeze;
  unsqueeze.add_input("x", DataType::Float32, Shape{1, 3});
  unsqueeze.add_input("axes", DataType::Int64, Shape{2});
  unsqueeze.add_node("Unsqueeze", {"x", "axes"}, {"y"}, {}, "n");
  EXPECT_EQ(inferred(unsqueeze), (Ints{N, N, N, N}));
}

TEST(SchemaOps2, ShapeWithStartAndEnd) {
  const auto shape_of = [](Attributes a) {
    Graph graph = one_node("Shape", Shape{2, 3, 4, 5}, {}, std::move(a));
    const Ints dims = inferred(graph);
    EXPECT_EQ(graph.value("y").dtype(), DataType::Int64);
    return dims;
  };
  EXPECT_EQ(shape_of({}), (Ints{4}));
  EXPECT_EQ(shape_of(attrs({{"start", i64(1)}})), (Ints{3}));
  EXPECT_EQ(shape_of(attrs({{"start", i64(-1)}})), (Ints{1}));
  EXPECT_EQ(shape_of(attrs({{"end", i64(-1)}})), (Ints{3}));
  EXPECT_EQ(shape_of(attrs({{"start", i64(1)}, {"end", i64(3)}})), (Ints{2}));
  // Out of range values clamp to [0, rank]; an empty range gives zero elements.
  EXPECT_EQ(shape_of(attrs({{"start", i64(-10)}, {"end", i64(10)}})), (Ints{4}));
  EXPECT_EQ(shape_of(attrs({{"start", i64(3)}, {"end", i64(1)}})), (Ints{0}));
}

TEST(SchemaOps2, GatherShapes) {
  // axis 1: data[:1] + indices.shape + data[2:] = [2] + [5,6] + [4].
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 3, 4});
  graph.add_input("i", DataType::Int32, Shape{5, 6});
  graph.add_node("Gather", {"x", "i"}, {"y"}, attrs({{"axis", i64(1)}}), "n");
  EXPECT_EQ(inferred(graph), (Ints{2, 5, 6, 4}));

  // A scalar index on the last axis removes it; -3 is the first of 3 elements.
  Graph scalar;
  scalar.add_input("x", DataType::Float32, Shape{N, 3});
  scalar.add_constant("i", Tensor::from(Shape{}, DataType::Int64, Ints{-3}));
  scalar.add_node("Gather", {"x", "i"}, {"y"}, attrs({{"axis", i64(-1)}}), "n");
  EXPECT_EQ(inferred(scalar), (Ints{N}));

  Graph out_of_range;
  out_of_range.add_input("x", DataType::Float32, Shape{2, 3});
  out_of_range.add_constant("i", Tensor::from(Shape{2}, DataType::Int64, Ints{0, 3}));
  out_of_range.add_node("Gather", {"x", "i"}, {"y"}, attrs({{"axis", i64(1)}}), "n");
  expect_inference_error(out_of_range, {"node 'n'", "index 3", "[-3, 2]"});

  Graph float_indices;
  float_indices.add_input("x", DataType::Float32, Shape{2, 3});
  float_indices.add_input("i", DataType::Float32, Shape{2});
  float_indices.add_node("Gather", {"x", "i"}, {"y"}, {}, "n");
  expect_inference_error(float_indices, {"node 'n'", "int64 or int32"});
}

namespace {

/// x[x_shape] -> Slice(starts, ends[, axes[, steps]]) -> y.
Graph slice(Shape x_shape, const Ints& starts, const Ints& ends, const Ints& axes = {}, const Ints& steps = {}) {
  Graph graph;
  graph.add_input("x", DataType::Float32, std::move(x_shape));
  add_ints(graph, "starts", starts);
  add_ints(graph, "ends", ends);
  std::vector<std::string> inputs{"x", "starts", "ends"};
  if (!axes.empty() || !steps.empty()) {
    add_ints(graph, "axes", axes);
    inputs.push_back("axes");
  }
  if (!steps.empty()) {
    add_ints(graph, "steps", steps);
    inputs.push_back("steps");
  }
  graph.add_node("Slice", inputs, {"y"}, {}, "n");
  return graph;
}

} // namespace

TEST(SchemaOps2, SliceClampsAndStepsBackwards) {
  constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t highest = std::numeric_limits<std::int64_t>::max();
  // Default axes 0, 1: x[0:2, 1:-1] of [4, 5] is [2, 3].
  Graph plain = slice(Shape{4, 5}, {0, 1}, {2, -1});
  EXPECT_EQ(inferred(plain), (Ints{2, 3}));
  // x[::-1] on 10: start -1 -> 9, end INT64_MIN clamps to -1, so all 10 elements.
  Graph reversed = slice(Shape{10}, {-1}, {lowest}, {0}, {-1});
  EXPECT_EQ(inferred(reversed), (Ints{10}));
  // x[20:0:-3] on 10: start clamps to 9, takes 9, 6, 3.
  Graph backwards = slice(Shape{10}, {20}, {0}, {0}, {-3});
  EXPECT_EQ(inferred(backwards), (Ints{3}));
  // Last axis (-1) of [2, 3, 7]: x[..., 1:INT64_MAX:2] takes 1, 3, 5.
  Graph strided = slice(Shape{2, 3, 7}, {1}, {highest}, {-1}, {2});
  EXPECT_EQ(inferred(strided), (Ints{2, 3, 3}));
  // An empty range and a dynamic axis.
  Graph empty = slice(Shape{N, 10}, {0, 5}, {1, 2}, {0, 1});
  EXPECT_EQ(inferred(empty), (Ints{N, 0}));

  Graph zero_step = slice(Shape{10}, {0}, {5}, {0}, {0});
  expect_inference_error(zero_step, {"node 'n'", "steps [0]"});
  Graph lengths = slice(Shape{4, 5}, {0, 1}, {2});
  expect_inference_error(lengths, {"node 'n'", "starts [0,1]", "ends [2]"});
}

TEST(SchemaOps2, ReduceMeanKeepdims) {
  const auto reduce = [](Attributes a) {
    Graph graph = one_node("ReduceMean", Shape{2, 3, 4}, {}, std::move(a));
    return inferred(graph);
  };
  EXPECT_EQ(reduce(attrs({{"axes", Ints{1}}})), (Ints{2, 1, 4}));
  EXPECT_EQ(reduce(attrs({{"axes", Ints{1}}, {"keepdims", i64(0)}})), (Ints{2, 4}));
  EXPECT_EQ(reduce(attrs({{"axes", Ints{-1, 0}}})), (Ints{1, 3, 1}));
  EXPECT_EQ(reduce({}), (Ints{1, 1, 1}));
  EXPECT_EQ(reduce(attrs({{"keepdims", i64(0)}})), (Ints{}));
  Graph twice = one_node("ReduceMean", Shape{2, 3, 4}, {}, attrs({{"axes", Ints{2, -1}}}));
  expect_inference_error(twice, {"node 'n'", "twice"});
}

TEST(SchemaOps2, ResizeFromScalesOrSizes) {
  // floor(4 * 2) = 8, floor(5 * 1.5) = 7 (7.5 rounds down); roi left out ("").
  Graph scaled;
  scaled.add_input("x", DataType::Float32, Shape{N, 3, 4, 5});
  add_floats(scaled, "scales", Shape{4}, {1.0f, 1.0f, 2.0f, 1.5f});
  scaled.add_node("Resize", {"x", "", "scales"}, {"y"}, attrs({{"mode", text("linear")}}), "n");
  EXPECT_EQ(inferred(scaled), (Ints{N, 3, 8, 7}));
  // Downscaling: floor(4 * 0.6) = 2, floor(5 * 0.5) = 2.
  Graph down;
  down.add_input("x", DataType::Float32, Shape{1, 3, 4, 5});
  add_floats(down, "scales", Shape{4}, {1.0f, 1.0f, 0.6f, 0.5f});
  down.add_node("Resize", {"x", "", "scales"}, {"y"}, {}, "n");
  EXPECT_EQ(inferred(down), (Ints{1, 3, 2, 2}));
  // sizes give the output directly; an empty scales tensor (opset 11 style) means absent.
  Graph sized;
  sized.add_input("x", DataType::Float32, Shape{1, 3, 4, 5});
  add_floats(sized, "scales", Shape{0}, {});
  add_ints(sized, "sizes", {1, 3, 9, 10});
  sized.add_node("Resize", {"x", "", "scales", "sizes"}, {"y"}, {}, "n");
  EXPECT_EQ(inferred(sized), (Ints{1, 3, 9, 10}));
}

TEST(SchemaOps2, ResizeErrors) {
  Graph both;
  both.add_input("x", DataType::Float32, Shape{1, 3, 4, 5});
  add_floats(both, "scales", Shape{4}, {1.0f, 1.0f, 2.0f, 2.0f});
  add_ints(both, "sizes", {1, 3, 8, 10});
  both.add_node("Resize", {"x", "", "scales", "sizes"}, {"y"}, {}, "n");
  expect_inference_error(both, {"node 'n'", "exactly one of scales", "both"});

  Graph cubic;
  cubic.add_input("x", DataType::Float32, Shape{1, 3, 4, 5});
  add_floats(cubic, "scales", Shape{4}, {1.0f, 1.0f, 2.0f, 2.0f});
  cubic.add_node("Resize", {"x", "", "scales"}, {"y"}, attrs({{"mode", text("cubic")}}), "n");
  expect_inference_error(cubic, {"node 'n'", "'mode' is 'cubic'", "nearest, linear"});

  Graph length;
  length.add_input("x", DataType::Float32, Shape{1, 3, 4, 5});
  add_floats(length, "scales", Shape{2}, {2.0f, 2.0f});
  length.add_node("Resize", {"x", "", "scales"}, {"y"}, {}, "n");
  expect_inference_error(length, {"node 'n'", "one value per axis"});
}

TEST(SchemaOps2, ConstantTakesItsTensor) {
  Graph graph;
  Attributes a;
  a.set("value", Tensor::from(Shape{2, 3}, DataType::Int64, Ints{1, 2, 3, 4, 5, 6}));
  graph.add_node("Constant", {}, {"y"}, std::move(a), "n");
  graph.add_output("y");
  EXPECT_EQ(inferred(graph), (Ints{2, 3}));
  EXPECT_EQ(graph.value("y").dtype(), DataType::Int64);
}

namespace {

/// x float32[1,3,4,4] -> op(x, scale[scale_shape], zero point[zp_shape] of `zp_type`).
Graph quantize(Shape scale_shape, std::optional<DataType> zp_type, Attributes a = {}) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 3, 4, 4});
  graph.add_constant("scale", Tensor(scale_shape, DataType::Float32));
  std::vector<std::string> inputs{"x", "scale"};
  if (zp_type) {
    graph.add_constant("zp", Tensor(scale_shape, *zp_type));
    inputs.push_back("zp");
  }
  graph.add_node("QuantizeLinear", inputs, {"y"}, std::move(a), "n");
  return graph;
}

} // namespace

TEST(SchemaOps2, QuantizeLinearOutputDtypeFromZeroPoint) {
  Graph int8 = quantize(Shape{}, DataType::Int8);
  EXPECT_EQ(inferred(int8), (Ints{1, 3, 4, 4}));
  EXPECT_EQ(int8.value("y").dtype(), DataType::Int8);
  Graph fallback = quantize(Shape{}, std::nullopt);
  fallback.infer_shapes();
  EXPECT_EQ(fallback.value("y").dtype(), DataType::UInt8);
  // Per axis: one scale per channel (axis 1, 3 channels), or per row with axis 2.
  Graph per_channel = quantize(Shape{3}, DataType::UInt8);
  per_channel.infer_shapes();
  EXPECT_EQ(per_channel.value("y").dtype(), DataType::UInt8);
  Graph per_row = quantize(Shape{4}, DataType::Int8, attrs({{"axis", i64(2)}}));
  EXPECT_EQ(inferred(per_row), (Ints{1, 3, 4, 4}));

  Graph wrong_length = quantize(Shape{4}, DataType::Int8);
  expect_inference_error(wrong_length, {"node 'n'", "has 4 values", "axis 1", "has 3"});
  Graph wrong_type = quantize(Shape{}, DataType::Int32);
  expect_inference_error(wrong_type, {"node 'n'", "int8, uint8"});
}

TEST(SchemaOps2, DequantizeLinearOutputsFloat32) {
  Graph graph;
  graph.add_input("q", DataType::Int8, Shape{N, 3});
  graph.add_constant("scale", Tensor(Shape{3}, DataType::Float32));
  graph.add_constant("zp", Tensor(Shape{3}, DataType::Int8));
  graph.add_node("DequantizeLinear", {"q", "scale", "zp"}, {"y"}, {}, "n");
  EXPECT_EQ(inferred(graph), (Ints{N, 3}));
  EXPECT_EQ(graph.value("y").dtype(), DataType::Float32);

  Graph bias;
  bias.add_input("q", DataType::Int32, Shape{3});
  bias.add_constant("scale", Tensor(Shape{}, DataType::Float32));
  bias.add_constant("zp", Tensor::from(Shape{}, DataType::Int32, std::vector<std::int32_t>{5}));
  bias.add_node("DequantizeLinear", {"q", "scale", "zp"}, {"y"}, {}, "n");
  expect_inference_error(bias, {"node 'n'", "holds 5", "zero point 0"});

  Graph mixed;
  mixed.add_input("q", DataType::UInt8, Shape{3});
  mixed.add_constant("scale", Tensor(Shape{}, DataType::Float32));
  mixed.add_constant("zp", Tensor(Shape{}, DataType::Int8));
  mixed.add_node("DequantizeLinear", {"q", "scale", "zp"}, {"y"}, {}, "n");
  expect_inference_error(mixed, {"node 'n'", "'zp'", "uint8"});
}

TEST(SchemaOps2, FusedActivationAttributes) {
  for (const char* op : {"Conv", "Gemm"}) {
    const tern::OpSchema& schema = tern::schema(op);
    EXPECT_EQ(std::get<std::string>(*schema.attribute("activation")->default_value), "") << op;
    EXPECT_DOUBLE_EQ(std::get<double>(*schema.attribute("activation_alpha")->default_value), 0.0) << op;
    EXPECT_DOUBLE_EQ(std::get<double>(*schema.attribute("activation_beta")->default_value), 0.0) << op;
  }
  const auto gemm = [](const char* activation) {
    Graph graph;
    graph.add_input("x", DataType::Float32, Shape{N, 4});
    graph.add_constant("w", Tensor(Shape{4, 2}, DataType::Float32));
    graph.add_node("Gemm", {"x", "w"}, {"y"}, attrs({{"activation", text(activation)}, {"activation_alpha", 0.1}}),
                   "n");
    return graph;
  };
  Graph leaky = gemm("LeakyRelu");
  EXPECT_EQ(inferred(leaky), (Ints{N, 2}));
  Graph softmax = gemm("Softmax");
  expect_inference_error(softmax, {"node 'n'", "'Softmax'", "HardSwish"});
}

namespace {

/// The node "n" of x[x_shape] -> op(attributes), for resolve_window.
struct WindowCase {
  Graph graph;
  const tern::Node& node() const { return *graph.find_node("n"); }
};

WindowCase window_case(const std::string& op, Attributes a) {
  WindowCase c;
  c.graph.add_input("x", DataType::Float32, Shape{1, 1, 7, 7});
  c.graph.add_node(op, {"x"}, {"y"}, std::move(a), "n");
  return c;
}

} // namespace

TEST(Window, SameUpperAndLowerPutTheOddPadOnOppositeSides) {
  // Kernel 4, stride 2 over 7: output ceil(7/2) = 4 needs (4-1)*2 + 4 - 7 = 3 pads.
  const Shape x{1, 1, 7, 7};
  const WindowCase upper = window_case(
      "MaxPool", attrs({{"auto_pad", text("SAME_UPPER")}, {"kernel_shape", Ints{4, 4}}, {"strides", Ints{2, 2}}}));
  const tern::Window u = tern::resolve_window(upper.node(), x, {4, 4});
  EXPECT_EQ(u.pads_begin, (Ints{1, 1}));
  EXPECT_EQ(u.pads_end, (Ints{2, 2}));
  EXPECT_EQ(tern::window_output_sizes(upper.node(), u, x), (Ints{4, 4}));
  const WindowCase lower = window_case(
      "MaxPool", attrs({{"auto_pad", text("SAME_LOWER")}, {"kernel_shape", Ints{4, 4}}, {"strides", Ints{2, 2}}}));
  const tern::Window l = tern::resolve_window(lower.node(), x, {4, 4});
  EXPECT_EQ(l.pads_begin, (Ints{2, 2}));
  EXPECT_EQ(l.pads_end, (Ints{1, 1}));
  EXPECT_EQ(tern::window_output_sizes(lower.node(), l, x), (Ints{4, 4}));
  // Kernel 2, stride 1 over 5: one pad, at the end (UPPER) or the start (LOWER).
  const Shape small{1, 1, 5};
  const WindowCase even =
      window_case("AveragePool", attrs({{"auto_pad", text("SAME_LOWER")}, {"kernel_shape", Ints{2}}}));
  const tern::Window e = tern::resolve_window(even.node(), small, {2});
  EXPECT_EQ(e.pads_begin, (Ints{1}));
  EXPECT_EQ(e.pads_end, (Ints{0}));
}

TEST(Window, DefaultsDilationsAndCeilMode) {
  const Shape x{1, 1, 7, 7};
  const WindowCase plain = window_case("MaxPool", attrs({{"kernel_shape", Ints{3, 3}}}));
  const tern::Window p = tern::resolve_window(plain.node(), x, {3, 3});
  EXPECT_EQ(p.strides, (Ints{1, 1}));
  EXPECT_EQ(p.dilations, (Ints{1, 1}));
  EXPECT_EQ(p.pads_begin, (Ints{0, 0}));
  EXPECT_EQ(p.pads_end, (Ints{0, 0}));
  // Dilation 2 spreads kernel 3 over 5: NOTSET gives 7 - 5 + 1 = 3; SAME_UPPER keeps 7
  // with (7-1) + 5 - 7 = 4 pads, 2 on each side.
  const WindowCase dilated = window_case("MaxPool", attrs({{"kernel_shape", Ints{3, 3}}, {"dilations", Ints{2, 2}}}));
  EXPECT_EQ(tern::window_output_sizes(dilated.node(), tern::resolve_window(dilated.node(), x, {3, 3}), x),
            (Ints{3, 3}));
  const WindowCase same = window_case(
      "MaxPool", attrs({{"kernel_shape", Ints{3, 3}}, {"dilations", Ints{2, 1}}, {"auto_pad", text("SAME_UPPER")}}));
  const tern::Window s = tern::resolve_window(same.node(), x, {3, 3});
  EXPECT_EQ(s.pads_begin, (Ints{2, 1}));
  EXPECT_EQ(s.pads_end, (Ints{2, 1}));
  EXPECT_EQ(tern::window_output_sizes(same.node(), s, x), (Ints{7, 7}));
  // Kernel 3, stride 2 over 6: floor(3/2) + 1 = 2, ceil_mode ceil(3/2) + 1 = 3.
  const Shape six{1, 1, 6};
  const WindowCase floor = window_case("MaxPool", attrs({{"kernel_shape", Ints{3}}, {"strides", Ints{2}}}));
  EXPECT_EQ(tern::window_output_sizes(floor.node(), tern::resolve_window(floor.node(), six, {3}), six), (Ints{2}));
  const WindowCase ceil =
      window_case("MaxPool", attrs({{"kernel_shape", Ints{3}}, {"strides", Ints{2}}, {"ceil_mode", i64(1)}}));
  EXPECT_EQ(tern::window_output_sizes(ceil.node(), tern::resolve_window(ceil.node(), six, {3}), six), (Ints{3}));
}

TEST(Window, ErrorsNameTheNode) {
  const Shape x{1, 1, 7, 7};
  const WindowCase pads = window_case("MaxPool", attrs({{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1}}}));
  EXPECT_THROW(
      {
        try {
          tern::resolve_window(pads.node(), x, {3, 3});
        } catch (const tern::Error& e) {
          EXPECT_NE(std::string(e.what()).find("node 'n'"), std::string::npos) << e.what();
          EXPECT_NE(std::string(e.what()).find("'pads' [1,1]"), std::string::npos) << e.what();
          throw;
        }
      },
      tern::Error);
  const WindowCase both = window_case(
      "MaxPool", attrs({{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}, {"auto_pad", text("VALID")}}));
  EXPECT_THROW(tern::resolve_window(both.node(), x, {3, 3}), tern::Error);
  const WindowCase rank = window_case("MaxPool", attrs({{"kernel_shape", Ints{3}}}));
  EXPECT_THROW(tern::resolve_window(rank.node(), x, {3}), tern::Error);
}
