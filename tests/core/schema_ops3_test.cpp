// Shape and dtype inference of the third batch of built-in schemas: the reductions, ArgMax
// and ArgMin, the float functions, LogSoftmax and Hardmax, comparisons and logic, Where,
// Mod, Expand, Tile, ConstantOfShape, Size, Range, and Pad's reflect mode. Expectations are
// worked out by hand from the ONNX operator spec.
#include <tern/graph.hpp>

#include <gtest/gtest.h>

#include "schema_testing.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using tern::Attributes;
using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using namespace tern::test;

namespace {

/// Two graph inputs a[a_shape], b[b_shape] of `type` -> op -> y.
Graph binary(const std::string& op, Shape a_shape, Shape b_shape, DataType type = DataType::Float32,
             Attributes a = {}) {
  Graph graph;
  graph.add_input("a", type, std::move(a_shape));
  graph.add_input("b", type, std::move(b_shape));
  graph.add_node(op, {"a", "b"}, {"y"}, std::move(a), "n");
  graph.add_output("y");
  return graph;
}

} // namespace

TEST(SchemaOps3, RegistersEveryOperator) {
  const std::vector<std::string> types = tern::registered_op_types();
  for (const char* op : {"ReduceSum",
                         "ReduceMean",
                         "ReduceMax",
                         "ReduceMin",
                         "ReduceProd",
                         "ReduceL1",
                         "ReduceL2",
                         "ReduceSumSquare",
                         "ReduceLogSum",
                         "ReduceLogSumExp",
                         "ArgMax",
                         "ArgMin",
                         "Log",
                         "Reciprocal",
                         "Floor",
                         "Ceil",
                         "Sign",
                         "Erf",
                         "Softplus",
                         "Softsign",
                         "Elu",
                         "Selu",
                         "ThresholdedRelu",
                         "Sin",
                         "Cos",
                         "Tan",
                         "Asin",
                         "Acos",
                         "Atan",
                         "Sinh",
                         "Cosh",
                         "Asinh",
                         "Acosh",
                         "Atanh",
                         "IsNaN",
                         "IsInf",
                         "LogSoftmax",
                         "Hardmax",
                         "Equal",
                         "Greater",
                         "Less",
                         "GreaterOrEqual",
                         "LessOrEqual",
                         "Not",
                         "And",
                         "Or",
                         "Xor",
                         "Where",
                         "Expand",
                         "Tile",
                         "ConstantOfShape",
                         "Size",
                         "Range",
                         "Mod"})
    EXPECT_NE(std::find(types.begin(), types.end(), op), types.end()) << op;
  // ONNX's defaults.
  EXPECT_DOUBLE_EQ(std::get<double>(*tern::schema("Elu").attribute("alpha")->default_value), 1.0);
  EXPECT_NEAR(std::get<double>(*tern::schema("Selu").attribute("alpha")->default_value), 1.6732632, 1e-6);
  EXPECT_NEAR(std::get<double>(*tern::schema("Selu").attribute("gamma")->default_value), 1.0507010, 1e-6);
  EXPECT_DOUBLE_EQ(std::get<double>(*tern::schema("ThresholdedRelu").attribute("alpha")->default_value), 1.0);
  EXPECT_EQ(std::get<std::int64_t>(*tern::schema("LogSoftmax").attribute("axis")->default_value), -1);
  EXPECT_EQ(std::get<std::int64_t>(*tern::schema("Mod").attribute("fmod")->default_value), 0);
  EXPECT_EQ(std::get<std::int64_t>(*tern::schema("ReduceSum").attribute("noop_with_empty_axes")->default_value), 0);
  EXPECT_EQ(tern::schema("ReduceSum").max_inputs, 2);
  EXPECT_EQ(tern::schema("ReduceMax").max_inputs, 1);
}

TEST(SchemaOps3, ReductionsWithTheAxesAttribute) {
  Graph kept = one_node("ReduceMax", Shape{2, 3, 4}, {}, attrs({{"axes", Ints{0, -1}}}));
  EXPECT_EQ(inferred(kept), (Ints{1, 3, 1}));
  Graph dropped = one_node("ReduceL2", Shape{2, 3, 4}, {}, attrs({{"axes", Ints{1}}, {"keepdims", i64(0)}}));
  EXPECT_EQ(inferred(dropped), (Ints{2, 4}));
  // No axes: every axis.
  Graph all = one_node("ReduceLogSumExp", Shape{N, 3}, {}, attrs({{"keepdims", i64(0)}}));
  EXPECT_EQ(inferred(all), Ints{});
  Graph int_input = one_node("ReduceProd", Shape{5}, {}, {}, DataType::Int32);
  EXPECT_EQ(inferred(int_input), (Ints{1}));
  EXPECT_EQ(int_input.value("y").dtype(), DataType::Int32);

  Graph twice = one_node("ReduceMin", Shape{2, 3}, {}, attrs({{"axes", Ints{1, -1}}}));
  expect_inference_error(twice, {"node 'n'", "twice"});
  Graph range = one_node("ReduceL1", Shape{2, 3}, {}, attrs({{"axes", Ints{2}}}));
  expect_inference_error(range, {"node 'n'", "out of range"});
  Graph keep = one_node("ReduceMean", Shape{2, 3}, {}, attrs({{"keepdims", i64(2)}}));
  expect_inference_error(keep, {"node 'n'", "keepdims", "0 or 1"});
  Graph boolean = one_node("ReduceSumSquare", Shape{2}, {}, {}, DataType::Bool);
  expect_inference_error(boolean, {"node 'n'", "numeric"});
}

TEST(SchemaOps3, ReduceSumTakesItsAxesAsAnInput) {
  Graph constant = with_ints("ReduceSum", Shape{2, 3, 4}, {-2}, attrs({{"keepdims", i64(0)}}));
  EXPECT_EQ(inferred(constant), (Ints{2, 4}));
  Graph none = one_node("ReduceSum", Shape{2, 3});
  EXPECT_EQ(inferred(none), (Ints{1, 1}));
  // An empty axes list reduces everything, unless noop_with_empty_axes says none.
  Graph empty = with_ints("ReduceSum", Shape{2, 3}, {}, attrs({{"keepdims", i64(0)}}));
  EXPECT_EQ(inferred(empty), Ints{});
  Graph noop = with_ints("ReduceSum", Shape{2, 3}, {}, attrs({{"keepdims", i64(0)}, {"noop_with_empty_axes", i64(1)}}));
  EXPECT_EQ(inferred(noop), (Ints{2, 3}));

  // Axes known only when running: the output rank follows from their count.
  Graph runtime;
  runtime.add_input("x", DataType::Float32, Shape{2, 3, 4});
  runtime.add_input("axes", DataType::Int64, Shape{2});
  runtime.add_node("ReduceSum", {"x", "axes"}, {"y"}, attrs({{"keepdims", i64(0)}}), "n");
  EXPECT_EQ(inferred(runtime), (Ints{N}));
  Graph runtime_kept;
  runtime_kept.add_input("x", DataType::Float32, Shape{2, 3, 4});
  runtime_kept.add_input("axes", DataType::Int64, Shape{1});
  runtime_kept.add_node("ReduceSum", {"x", "axes"}, {"y"}, {}, "n");
  EXPECT_EQ(inferred(runtime_kept), (Ints{N, N, N}));

  Graph twice = with_ints("ReduceSum", Shape{2, 3}, {0, -2});
  expect_inference_error(twice, {"node 'n'", "twice"});
}

TEST(SchemaOps3, ArgMaxAndArgMinGiveInt64) {
  Graph kept = one_node("ArgMax", Shape{2, 3, 4}, {}, attrs({{"axis", i64(-1)}}));
  EXPECT_EQ(inferred(kept), (Ints{2, 3, 1}));
  EXPECT_EQ(kept.value("y").dtype(), DataType::Int64);
  Graph dropped = one_node("ArgMin", Shape{2, 3, 4}, {}, attrs({{"keepdims", i64(0)}}));
  EXPECT_EQ(inferred(dropped), (Ints{3, 4}));
  Graph axis = one_node("ArgMax", Shape{2, 3}, {}, attrs({{"axis", i64(2)}}));
  expect_inference_error(axis, {"node 'n'", "attribute 'axis'", "out of range"});
  Graph last = one_node("ArgMin", Shape{2, 3}, {}, attrs({{"select_last_index", i64(3)}}));
  expect_inference_error(last, {"node 'n'", "select_last_index"});
}

TEST(SchemaOps3, FloatFunctionsAndClassifiers) {
  for (const char* op : {"Log", "Erf", "Sin", "Acosh", "Elu", "Softplus", "Floor"}) {
    Graph graph = one_node(op, Shape{N, 3});
    EXPECT_EQ(inferred(graph), (Ints{N, 3})) << op;
    EXPECT_EQ(graph.value("y").dtype(), DataType::Float32) << op;
    Graph ints = one_node(op, Shape{3}, {}, {}, DataType::Int32);
    expect_inference_error(ints, {"node 'n'", "float32 or float64"});
  }
  // Sign is defined on every numeric type.
  Graph sign = one_node("Sign", Shape{4}, {}, {}, DataType::Int8);
  EXPECT_EQ(inferred(sign), (Ints{4}));
  Graph isinf = one_node("IsInf", Shape{2, 2});
  EXPECT_EQ(inferred(isinf), (Ints{2, 2}));
  EXPECT_EQ(isinf.value("y").dtype(), DataType::Bool);
  Graph isnan = one_node("IsNaN", Shape{2}, {}, {}, DataType::Int64);
  expect_inference_error(isnan, {"node 'n'", "float32 or float64"});
}

TEST(SchemaOps3, LogSoftmaxAndHardmaxKeepTheShape) {
  Graph log_softmax = one_node("LogSoftmax", Shape{N, 3, 4}, {}, attrs({{"axis", i64(1)}}));
  EXPECT_EQ(inferred(log_softmax), (Ints{N, 3, 4}));
  Graph hardmax = one_node("Hardmax", Shape{2, 3}, {}, attrs({{"axis", i64(-3)}}));
  expect_inference_error(hardmax, {"node 'n'", "attribute 'axis'"});
}

TEST(SchemaOps3, ComparisonsAndLogicBroadcastToBool) {
  Graph greater = binary("Greater", Shape{2, 1, 4}, Shape{3, 1});
  EXPECT_EQ(inferred(greater), (Ints{2, 3, 4}));
  EXPECT_EQ(greater.value("y").dtype(), DataType::Bool);
  Graph equal = binary("Equal", Shape{3}, Shape{3}, DataType::Bool);
  EXPECT_EQ(inferred(equal), (Ints{3}));
  Graph less = binary("Less", Shape{3}, Shape{3}, DataType::Bool);
  expect_inference_error(less, {"node 'n'", "numeric"});
  Graph mixed;
  mixed.add_input("a", DataType::Int32, Shape{3});
  mixed.add_input("b", DataType::Int64, Shape{3});
  mixed.add_node("LessOrEqual", {"a", "b"}, {"y"}, {}, "n");
  expect_inference_error(mixed, {"node 'n'", "'b'", "dtype"});
  Graph mismatch = binary("GreaterOrEqual", Shape{3}, Shape{4});
  expect_inference_error(mismatch, {"node 'n'", "3 vs 4"});

  Graph both = binary("And", Shape{4, 1}, Shape{5}, DataType::Bool);
  EXPECT_EQ(inferred(both), (Ints{4, 5}));
  Graph floats = binary("Xor", Shape{4}, Shape{4});
  expect_inference_error(floats, {"node 'n'", "must be bool"});
  Graph negation = one_node("Not", Shape{2, 3}, {}, {}, DataType::Bool);
  EXPECT_EQ(inferred(negation), (Ints{2, 3}));
}

TEST(SchemaOps3, WhereBroadcastsItsThreeInputs) {
  Graph graph;
  graph.add_input("c", DataType::Bool, Shape{2, 1, 1});
  graph.add_input("a", DataType::Int64, Shape{3, 1});
  graph.add_input("b", DataType::Int64, Shape{4});
  graph.add_node("Where", {"c", "a", "b"}, {"y"}, {}, "n");
  EXPECT_EQ(inferred(graph), (Ints{2, 3, 4}));
  EXPECT_EQ(graph.value("y").dtype(), DataType::Int64);

  Graph condition;
  condition.add_input("c", DataType::Float32, Shape{2});
  condition.add_input("a", DataType::Float32, Shape{2});
  condition.add_input("b", DataType::Float32, Shape{2});
  condition.add_node("Where", {"c", "a", "b"}, {"y"}, {}, "n");
  expect_inference_error(condition, {"node 'n'", "'c'", "must be bool"});
}

TEST(SchemaOps3, ModNeedsFmodForFloats) {
  Graph ints = binary("Mod", Shape{3, 1}, Shape{4}, DataType::Int32);
  EXPECT_EQ(inferred(ints), (Ints{3, 4}));
  Graph fmod = binary("Mod", Shape{3}, Shape{3}, DataType::Float32, attrs({{"fmod", i64(1)}}));
  EXPECT_EQ(inferred(fmod), (Ints{3}));
  Graph python = binary("Mod", Shape{3}, Shape{3}, DataType::Float32);
  expect_inference_error(python, {"node 'n'", "fmod=1"});
}

TEST(SchemaOps3, ExpandAndTileFromShapeData) {
  // Expand broadcasts both ways: [3,1] with [2,1,6] -> [2,3,6].
  Graph expand = with_ints("Expand", Shape{3, 1}, {2, 1, 6});
  EXPECT_EQ(inferred(expand), (Ints{2, 3, 6}));
  Graph bad = with_ints("Expand", Shape{3, 2}, {4});
  expect_inference_error(bad, {"node 'n'", "cannot broadcast"});
  Graph tile = with_ints("Tile", Shape{2, 3}, {3, 1});
  EXPECT_EQ(inferred(tile), (Ints{6, 3}));
  Graph short_repeats = with_ints("Tile", Shape{2, 3}, {3});
  expect_inference_error(short_repeats, {"node 'n'", "one value per axis"});

  // Shape data known only when running: dynamic dims of a known rank.
  Graph runtime;
  runtime.add_input("x", DataType::Float32, Shape{3, 1});
  runtime.add_input("s", DataType::Int64, Shape{3});
  runtime.add_node("Expand", {"x", "s"}, {"y"}, {}, "n");
  EXPECT_EQ(inferred(runtime), (Ints{N, N, N}));
}

TEST(SchemaOps3, ConstantOfShapeSizeAndRange) {
  Graph zeros;
  add_ints(zeros, "s", {2, 3});
  zeros.add_node("ConstantOfShape", {"s"}, {"y"}, {}, "n");
  EXPECT_EQ(inferred(zeros), (Ints{2, 3}));
  EXPECT_EQ(zeros.value("y").dtype(), DataType::Float32);
  Graph ones;
  add_ints(ones, "s", {4});
  ones.add_node("ConstantOfShape", {"s"}, {"y"},
                attrs({{"value", Tensor::from(Shape{1}, DataType::Int32, std::vector<std::int32_t>{1})}}), "n");
  EXPECT_EQ(inferred(ones), (Ints{4}));
  EXPECT_EQ(ones.value("y").dtype(), DataType::Int32);
  Graph negative;
  add_ints(negative, "s", {2, -1});
  negative.add_node("ConstantOfShape", {"s"}, {"y"}, {}, "n");
  expect_inference_error(negative, {"node 'n'", "negative"});

  Graph size = one_node("Size", Shape{N, 3});
  EXPECT_EQ(inferred(size), Ints{});
  EXPECT_EQ(size.value("y").dtype(), DataType::Int64);

  // ceil((limit - start) / delta), at least 0: from 10 to 4 by -3 is 10, 7; from 1 to 5 by
  // 1.5 is 1, 2.5, 4.
  const auto range = [](float start, float limit, float delta) {
    Graph graph;
    graph.add_constant("start", Tensor::from(Shape{}, DataType::Float32, std::vector<float>{start}));
    graph.add_constant("limit", Tensor::from(Shape{}, DataType::Float32, std::vector<float>{limit}));
    graph.add_constant("delta", Tensor::from(Shape{}, DataType::Float32, std::vector<float>{delta}));
    graph.add_node("Range", {"start", "limit", "delta"}, {"y"}, {}, "n");
    return graph;
  };
  Graph down = range(10, 4, -3);
  EXPECT_EQ(inferred(down), (Ints{2}));
  Graph up = range(1, 5, 1.5f);
  EXPECT_EQ(inferred(up), (Ints{3}));
  Graph none = range(5, 1, 1);
  EXPECT_EQ(inferred(none), (Ints{0}));
  Graph zero_step = range(1, 5, 0);
  expect_inference_error(zero_step, {"node 'n'", "delta", "is 0"});
  Graph runtime;
  runtime.add_input("start", DataType::Int32, Shape{});
  runtime.add_input("limit", DataType::Int32, Shape{});
  runtime.add_input("delta", DataType::Int32, Shape{});
  runtime.add_node("Range", {"start", "limit", "delta"}, {"y"}, {}, "n");
  EXPECT_EQ(inferred(runtime), (Ints{N}));
}

TEST(SchemaOps3, PadReflectKeepsMirroringPastTheAxis) {
  // ONNX's own reflect example pads 2 on an axis of 2; only an empty axis cannot mirror.
  Graph wide = with_ints("Pad", Shape{3, 2}, {0, 2, 0, 0}, attrs({{"mode", std::string("reflect")}}));
  EXPECT_EQ(inferred(wide), (Ints{3, 4}));
  Graph empty = with_ints("Pad", Shape{3, 0}, {0, 1, 0, 0}, attrs({{"mode", std::string("reflect")}}));
  expect_inference_error(empty, {"node 'n'", "non-empty"});
}
