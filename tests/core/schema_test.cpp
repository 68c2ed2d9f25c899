// Shape and dtype inference of the built-in operator schemas. Expected shapes are worked
// out by hand from the ONNX operator spec, never computed by the code under test.
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

// Shapes are compared as dimension lists, which GoogleTest prints readably.

/// x[x_shape] -> Conv(w[w_shape], attributes) -> y.
Graph conv_graph(Shape x_shape, Shape w_shape, Attributes attributes) {
  Graph graph;
  graph.add_input("x", DataType::Float32, std::move(x_shape));
  add_weights(graph, "w", std::move(w_shape));
  graph.add_node("Conv", {"x", "w"}, {"y"}, std::move(attributes), "conv");
  graph.add_output("y");
  return graph;
}

} // namespace

TEST(SchemaRegistry, HasEveryBuiltinOperator) {
  const std::vector<std::string> types = tern::registered_op_types();
  for (const char* op : {"Conv",
                         "Gemm",
                         "MatMul",
                         "Relu",
                         "Clip",
                         "LeakyRelu",
                         "Sigmoid",
                         "MaxPool",
                         "AveragePool",
                         "GlobalAveragePool",
                         "BatchNormalization",
                         "Flatten",
                         "Reshape",
                         "Transpose",
                         "Add",
                         "Sub",
                         "Mul",
                         "Div",
                         "Concat",
                         "Softmax",
                         "Identity",
                         "Dropout",
                         "Pad",
                         "Round",
                         "Cast"})
    EXPECT_NE(std::find(types.begin(), types.end(), op), types.end()) << op;
}

TEST(SchemaRegistry, DeclaresOnnxDefaults) {
  const tern::OpSchema& leaky = tern::schema("LeakyRelu");
  ASSERT_NE(leaky.attribute("alpha"), nullptr);
  EXPECT_DOUBLE_EQ(std::get<double>(*leaky.attribute("alpha")->default_value), 0.01);
  const tern::OpSchema& bn = tern::schema("BatchNormalization");
  EXPECT_DOUBLE_EQ(std::get<double>(*bn.attribute("epsilon")->default_value), 1e-5);
  EXPECT_DOUBLE_EQ(std::get<double>(*bn.attribute("momentum")->default_value), 0.9);
  EXPECT_EQ(std::get<std::int64_t>(*tern::schema("Softmax").attribute("axis")->default_value), -1);
  EXPECT_EQ(std::get<std::int64_t>(*tern::schema("Flatten").attribute("axis")->default_value), 1);
  EXPECT_EQ(std::get<std::string>(*tern::schema("Conv").attribute("auto_pad")->default_value), "NOTSET");
  // kernel_shape is taken from W when absent, so Conv declares no default for it.
  EXPECT_FALSE(tern::schema("Conv").attribute("kernel_shape")->default_value.has_value());
  EXPECT_TRUE(tern::schema("MaxPool").attribute("kernel_shape")->required);
  EXPECT_TRUE(tern::schema("Concat").attribute("axis")->required);
}

TEST(SchemaConv, PaddingAndStrides) {
  Graph padded = conv_graph(Shape{1, 1, 5, 5}, Shape{1, 1, 3, 3}, attrs({{"pads", Ints{1, 1, 1, 1}}}));
  EXPECT_EQ(inferred(padded, "y"), (Ints{1, 1, 5, 5}));
  // ONNX conv_with_strides_no_padding: floor((7 - 3) / 2) + 1 = 3, floor((5 - 3) / 2) + 1 = 2.
  Graph strided = conv_graph(Shape{1, 1, 7, 5}, Shape{1, 1, 3, 3}, attrs({{"strides", Ints{2, 2}}}));
  EXPECT_EQ(inferred(strided, "y"), (Ints{1, 1, 3, 2}));
  // Asymmetric pads [top, left, bottom, right] = [1, 0, 1, 0]: H 7 + 2 - 3 + 1 = 7, W 5 - 3 + 1 = 3.
  Graph asymmetric = conv_graph(Shape{1, 1, 7, 5}, Shape{1, 1, 3, 3}, attrs({{"pads", Ints{1, 0, 1, 0}}}));
  EXPECT_EQ(inferred(asymmetric, "y"), (Ints{1, 1, 7, 3}));
  EXPECT_EQ(asymmetric.value("y").dtype(), DataType::Float32);
}

TEST(SchemaConv, GroupedDepthwiseAndBias) {
  // group 2: W in-channels 4 x 2 = X's 8 channels; 16 output channels.
  Graph grouped = conv_graph(Shape{1, 8, 10, 10}, Shape{16, 4, 3, 3}, attrs({{"group", i64(2)}}));
  EXPECT_EQ(inferred(grouped, "y"), (Ints{1, 16, 8, 8}));

  Graph depthwise;
  depthwise.add_input("x", DataType::Float32, Shape{2, 8, 6, 6});
  add_weights(depthwise, "w", Shape{8, 1, 3, 3});
  add_weights(depthwise, "b", Shape{8});
  depthwise.add_node("Conv", {"x", "w", "b"}, {"y"}, attrs({{"group", i64(8)}, {"pads", Ints{1, 1, 1, 1}}}), "dw");
  EXPECT_EQ(inferred(depthwise, "y"), (Ints{2, 8, 6, 6}));
}

TEST(SchemaConv, DilationsAndAutoPad) {
  // Dilation 2 spreads a 3x3 kernel over 5x5: 9 - 5 + 1 = 5.
  Graph dilated = conv_graph(Shape{1, 1, 9, 9}, Shape{1, 1, 3, 3}, attrs({{"dilations", Ints{2, 2}}}));
  EXPECT_EQ(inferred(dilated, "y"), (Ints{1, 1, 5, 5}));
  // SAME_UPPER: ceil(7 / 2) = 4, whatever the kernel. VALID: floor((7 - 3) / 2) + 1 = 3.
  Graph same = conv_graph(Shape{1, 1, 7, 7}, Shape{1, 1, 3, 3},
                          attrs({{"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2, 2}}}));
  EXPECT_EQ(inferred(same, "y"), (Ints{1, 1, 4, 4}));
  Graph valid = conv_graph(Shape{1, 1, 7, 7}, Shape{1, 1, 3, 3},
                           attrs({{"auto_pad", std::string("VALID")}, {"strides", Ints{2, 2}}}));
  EXPECT_EQ(inferred(valid, "y"), (Ints{1, 1, 3, 3}));
  // Conv1d: a rank-3 input with one spatial axis; kernel_shape agrees with W.
  Graph conv1d = conv_graph(Shape{1, 2, 10}, Shape{4, 2, 3}, attrs({{"kernel_shape", Ints{3}}}));
  EXPECT_EQ(inferred(conv1d, "y"), (Ints{1, 4, 8}));
}

TEST(SchemaConv, RejectsChannelMismatches) {
  // W expects 2 input channels x group 1, X has 3.
  Graph mismatch = conv_graph(Shape{1, 3, 5, 5}, Shape{4, 2, 3, 3}, {});
  expect_inference_error(mismatch, {"node 'conv'", "3 channels", "'w'"});
  // 6 output channels cannot be split into 4 groups.
  Graph groups = conv_graph(Shape{1, 4, 5, 5}, Shape{6, 1, 3, 3}, attrs({{"group", i64(4)}}));
  expect_inference_error(groups, {"node 'conv'", "not divisible by group 4"});
  Graph kernel = conv_graph(Shape{1, 1, 5, 5}, Shape{1, 1, 3, 3}, attrs({{"kernel_shape", Ints{2, 2}}}));
  expect_inference_error(kernel, {"node 'conv'", "kernel_shape"});
  Graph too_small = conv_graph(Shape{1, 1, 2, 2}, Shape{1, 1, 3, 3}, {});
  expect_inference_error(too_small, {"node 'conv'", "kernel"});
}

TEST(SchemaConv, RejectsBoolAndWrongRank) {
  Graph boolean;
  boolean.add_input("x", DataType::Bool, Shape{1, 1, 5, 5});
  boolean.add_input("w", DataType::Bool, Shape{1, 1, 3, 3});
  boolean.add_node("Conv", {"x", "w"}, {"y"}, {}, "conv");
  expect_inference_error(boolean, {"node 'conv'", "float32 or float64"});
  Graph flat = conv_graph(Shape{1, 25}, Shape{1, 25}, {});
  expect_inference_error(flat, {"node 'conv'", "rank 2"});
}

TEST(SchemaPool, MaxPoolCeilModeAndIndices) {
  // ONNX maxpool_2d_ceil: 4x4, kernel 3, stride 2: floor gives 1, ceil gives 2.
  for (const auto& [ceil, size] : {std::pair<std::int64_t, std::int64_t>{0, 1}, {1, 2}}) {
    Graph graph;
    graph.add_input("x", DataType::Float32, Shape{1, 1, 4, 4});
    graph.add_node("MaxPool", {"x"}, {"y", "indices"},
                   attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"ceil_mode", i64(ceil)}}), "pool");
    EXPECT_EQ(inferred(graph, "y"), (Ints{1, 1, size, size})) << "ceil_mode " << ceil;
    EXPECT_EQ(graph.value("indices").dtype(), DataType::Int64);
    EXPECT_EQ(dims_of(graph, "indices"), (Ints{1, 1, size, size}));
  }
  // 5, kernel 2, stride 2, ceil: ceil(3 / 2) + 1 = 3; the last window starts at 4, inside
  // the input, so it stays.
  Graph padded;
  padded.add_input("x", DataType::Float32, Shape{1, 1, 5, 5});
  padded.add_node("MaxPool", {"x"}, {"y"},
                  attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"ceil_mode", i64(1)}}), "pool");
  EXPECT_EQ(inferred(padded, "y"), (Ints{1, 1, 3, 3}));
}

TEST(SchemaPool, MaxPoolCeilModeDropsWindowsStartingInPadding) {
  // 3, kernel 2, stride 2, pads [1, 1]: ceil((3 + 2 - 2) / 2) + 1 = 3, but the third window
  // would start at 2 * 2 - 1 = 3, inside the end padding: dropped (PyTorch gives 2 too).
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 1, 3, 3});
  graph.add_node(
      "MaxPool", {"x"}, {"y"},
      attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}, {"ceil_mode", i64(1)}}),
      "pool");
  EXPECT_EQ(inferred(graph, "y"), (Ints{1, 1, 2, 2}));
}

TEST(SchemaPool, AverageAndGlobalAveragePool) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 3, 32, 32});
  graph.add_node("AveragePool", {"x"}, {"half"}, attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}));
  graph.add_node("AveragePool", {"x"}, {"same"},
                 attrs({{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}, {"count_include_pad", i64(1)}}));
  graph.add_node("GlobalAveragePool", {"x"}, {"global"});
  graph.infer_shapes();
  EXPECT_EQ(dims_of(graph, "half"), (Ints{2, 3, 16, 16}));
  EXPECT_EQ(dims_of(graph, "same"), (Ints{2, 3, 32, 32}));
  EXPECT_EQ(dims_of(graph, "global"), (Ints{2, 3, 1, 1}));

  Graph missing;
  missing.add_input("x", DataType::Float32, Shape{1, 1, 4, 4});
  missing.add_node("MaxPool", {"x"}, {"y"}, {}, "pool");
  expect_inference_error(missing, {"node 'pool'", "kernel_shape"});
}

TEST(SchemaGemm, TransposesAndBroadcastsC) {
  Graph graph;
  graph.add_input("a", DataType::Float32, Shape{2, 3});
  add_weights(graph, "b", Shape{4, 3});
  add_weights(graph, "c", Shape{4});
  graph.add_node("Gemm", {"a", "b", "c"}, {"y"}, attrs({{"transB", i64(1)}}), "fc");
  EXPECT_EQ(inferred(graph, "y"), (Ints{2, 4}));

  Graph trans_a;
  trans_a.add_input("a", DataType::Float32, Shape{3, 2});
  add_weights(trans_a, "b", Shape{3, 5});
  trans_a.add_node("Gemm", {"a", "b"}, {"y"}, attrs({{"transA", i64(1)}}), "fc");
  EXPECT_EQ(inferred(trans_a, "y"), (Ints{2, 5}));

  Graph bad_c;
  bad_c.add_input("a", DataType::Float32, Shape{2, 3});
  add_weights(bad_c, "b", Shape{3, 4});
  add_weights(bad_c, "c", Shape{3});
  bad_c.add_node("Gemm", {"a", "b", "c"}, {"y"}, {}, "fc");
  expect_inference_error(bad_c, {"node 'fc'", "'c'", "[2,4]"});

  Graph bad_k;
  bad_k.add_input("a", DataType::Float32, Shape{2, 3});
  add_weights(bad_k, "b", Shape{4, 3});
  bad_k.add_node("Gemm", {"a", "b"}, {"y"}, {}, "fc");
  expect_inference_error(bad_k, {"node 'fc'", "inner dimensions"});
}

TEST(SchemaGemm, FlattensARankAboveTwo) {
  // Tern extension: A [2, 3, 4, 4] is read as [2, 48].
  Graph graph;
  graph.add_input("a", DataType::Float32, Shape{2, 3, 4, 4});
  add_weights(graph, "b", Shape{48, 10});
  graph.add_node("Gemm", {"a", "b"}, {"y"}, {}, "fc");
  EXPECT_EQ(inferred(graph, "y"), (Ints{2, 10}));

  Graph transposed;
  transposed.add_input("a", DataType::Float32, Shape{2, 3, 4, 4});
  add_weights(transposed, "b", Shape{2, 10});
  transposed.add_node("Gemm", {"a", "b"}, {"y"}, attrs({{"transA", i64(1)}}), "fc");
  expect_inference_error(transposed, {"node 'fc'", "transA"});
}

TEST(SchemaMatMul, BroadcastsBatchesAndVectors) {
  struct Case {
    Shape a, b, y;
  };
  for (const Case& c :
       {Case{Shape{2, 3, 4}, Shape{4, 5}, Shape{2, 3, 5}}, Case{Shape{5, 1, 3, 4}, Shape{6, 4, 2}, Shape{5, 6, 3, 2}},
        Case{Shape{4}, Shape{2, 4, 5}, Shape{2, 5}}, Case{Shape{3, 4}, Shape{4}, Shape{3}},
        Case{Shape{4}, Shape{4}, Shape{}}, Case{Shape{N, 3, 4}, Shape{4, 5}, Shape{N, 3, 5}}}) {
    Graph graph;
    graph.add_input("a", DataType::Float32, c.a);
    graph.add_input("b", DataType::Float32, c.b);
    graph.add_node("MatMul", {"a", "b"}, {"y"});
    EXPECT_EQ(inferred(graph, "y"), c.y.dims()) << c.a.to_string() << " @ " << c.b.to_string();
  }
  Graph bad;
  bad.add_input("a", DataType::Float32, Shape{2, 3, 4});
  bad.add_input("b", DataType::Float32, Shape{3, 5});
  bad.add_node("MatMul", {"a", "b"}, {"y"}, {}, "mm");
  expect_inference_error(bad, {"node 'mm'", "inner dimensions", "4", "3"});
}

TEST(SchemaElementwise, BroadcastsWithDynamicDims) {
  struct Case {
    Shape a, b, y;
  };
  for (const Case& c : {Case{Shape{2, 1, 4}, Shape{3, 1}, Shape{2, 3, 4}}, Case{Shape{N, 1}, Shape{1, 5}, Shape{N, 5}},
                        Case{Shape{N}, Shape{3}, Shape{3}}, Case{Shape{N}, Shape{1}, Shape{N}},
                        Case{Shape{}, Shape{2, 2}, Shape{2, 2}}}) {
    for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
      Graph graph;
      graph.add_input("a", DataType::Float32, c.a);
      graph.add_input("b", DataType::Float32, c.b);
      graph.add_node(op, {"a", "b"}, {"y"});
      EXPECT_EQ(inferred(graph, "y"), c.y.dims()) << op << " " << c.a.to_string() << " " << c.b.to_string();
    }
  }
}

TEST(SchemaElementwise, RejectsIncompatibleBroadcastAndMixedTypes) {
  Graph shapes;
  shapes.add_input("a", DataType::Float32, Shape{2, 3});
  shapes.add_input("b", DataType::Float32, Shape{4});
  shapes.add_node("Add", {"a", "b"}, {"y"}, {}, "sum");
  expect_inference_error(shapes, {"node 'sum'", "broadcast", "3 vs 4"});

  Graph types;
  types.add_input("a", DataType::Float32, Shape{2});
  types.add_input("b", DataType::Int8, Shape{2});
  types.add_node("Mul", {"a", "b"}, {"y"}, {}, "product");
  expect_inference_error(types, {"node 'product'", "int8", "dtype"});
}

TEST(SchemaElementwise, ActivationsKeepTypeAndCheckIt) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{N, 4});
  graph.add_input("q", DataType::Int8, Shape{3});
  add_weights(graph, "hi", Shape{});
  graph.add_node("Relu", {"x"}, {"relu"});
  graph.add_node("Relu", {"q"}, {"relu_int"});
  graph.add_node("LeakyRelu", {"x"}, {"leaky"}, {}, "leaky_node");
  graph.add_node("Sigmoid", {"x"}, {"sigmoid"});
  graph.add_node("Round", {"x"}, {"round"});
  graph.add_node("Identity", {"q"}, {"same"});
  graph.add_node("Clip", {"x", "", "hi"}, {"clip"});
  graph.infer_shapes();
  for (const char* name : {"relu", "leaky", "sigmoid", "round", "clip"}) {
    EXPECT_EQ(dims_of(graph, name), (Ints{N, 4})) << name;
    EXPECT_EQ(graph.value(name).dtype(), DataType::Float32) << name;
  }
  EXPECT_EQ(graph.value("relu_int").dtype(), DataType::Int8);
  EXPECT_EQ(graph.value("same").dtype(), DataType::Int8);
  EXPECT_DOUBLE_EQ(graph.find_node("leaky_node")->attr<double>("alpha"), 0.01);

  Graph boolean;
  boolean.add_input("x", DataType::Bool, Shape{2});
  boolean.add_node("Sigmoid", {"x"}, {"y"}, {}, "sig");
  expect_inference_error(boolean, {"node 'sig'", "bool"});

  Graph bad_bound;
  bad_bound.add_input("x", DataType::Float32, Shape{2});
  add_weights(bad_bound, "lo", Shape{2});
  bad_bound.add_node("Clip", {"x", "lo"}, {"y"}, {}, "clip");
  expect_inference_error(bad_bound, {"node 'clip'", "'lo'", "single value"});
}

TEST(SchemaElementwise, DropoutAndCast) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{N, 8});
  graph.add_node("Dropout", {"x"}, {"y", "mask"});
  graph.add_node("Cast", {"x"}, {"q"}, attrs({{"to", std::string("int8")}}));
  graph.infer_shapes();
  EXPECT_EQ(dims_of(graph, "y"), (Ints{N, 8}));
  EXPECT_EQ(graph.value("mask").dtype(), DataType::Bool);
  EXPECT_EQ(dims_of(graph, "mask"), (Ints{N, 8}));
  EXPECT_EQ(graph.value("q").dtype(), DataType::Int8);
  EXPECT_EQ(dims_of(graph, "q"), (Ints{N, 8}));

  Graph unknown;
  unknown.add_input("x", DataType::Float32, Shape{2});
  unknown.add_node("Cast", {"x"}, {"y"}, attrs({{"to", std::string("float16")}}), "cast");
  expect_inference_error(unknown, {"node 'cast'", "'float16'", "int8"});

  Graph training;
  training.add_input("x", DataType::Float32, Shape{2});
  training.add_constant("train", Tensor::from(Shape{}, DataType::Bool, std::vector<bool>{true}));
  training.add_node("Dropout", {"x", "", "train"}, {"y"}, {}, "drop");
  expect_inference_error(training, {"node 'drop'", "training_mode"});
}

TEST(SchemaNormalization, BatchNormalizationAndSoftmax) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{N, 4, 5, 5});
  for (const char* name : {"scale", "bias", "mean", "var"}) add_weights(graph, name, Shape{4});
  graph.add_node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"});
  graph.add_node("Softmax", {"y"}, {"p"}, attrs({{"axis", i64(1)}}));
  graph.infer_shapes();
  EXPECT_EQ(dims_of(graph, "y"), (Ints{N, 4, 5, 5}));
  EXPECT_EQ(dims_of(graph, "p"), (Ints{N, 4, 5, 5}));

  Graph wrong_length;
  wrong_length.add_input("x", DataType::Float32, Shape{1, 4, 5, 5});
  for (const char* name : {"scale", "bias", "mean"}) add_weights(wrong_length, name, Shape{4});
  add_weights(wrong_length, "var", Shape{3});
  wrong_length.add_node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"}, {}, "bn");
  expect_inference_error(wrong_length, {"node 'bn'", "'var'", "per channel"});

  Graph training;
  training.add_input("x", DataType::Float32, Shape{1, 4});
  for (const char* name : {"scale", "bias", "mean", "var"}) add_weights(training, name, Shape{4});
  training.add_node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"},
                    attrs({{"training_mode", i64(1)}}), "bn");
  expect_inference_error(training, {"node 'bn'", "training_mode"});

  Graph axis;
  axis.add_input("x", DataType::Float32, Shape{2, 3});
  axis.add_node("Softmax", {"x"}, {"y"}, attrs({{"axis", i64(2)}}), "softmax");
  expect_inference_error(axis, {"node 'softmax'", "axis", "2"});
}

TEST(SchemaShape, FlattenAndTranspose) {
  Graph graph;
  graph.add_input("x", DataType::Int8, Shape{2, 3, 4});
  graph.add_node("Flatten", {"x"}, {"f1"});
  graph.add_node("Flatten", {"x"}, {"f0"}, attrs({{"axis", i64(0)}}));
  graph.add_node("Flatten", {"x"}, {"f_neg"}, attrs({{"axis", i64(-1)}}));
  graph.add_node("Flatten", {"x"}, {"f3"}, attrs({{"axis", i64(3)}}));
  graph.add_node("Transpose", {"x"}, {"t_default"});
  graph.add_node("Transpose", {"x"}, {"t"}, attrs({{"perm", Ints{0, 2, 1}}}));
  graph.infer_shapes();
  EXPECT_EQ(dims_of(graph, "f1"), (Ints{2, 12}));
  EXPECT_EQ(dims_of(graph, "f0"), (Ints{1, 24}));
  EXPECT_EQ(dims_of(graph, "f_neg"), (Ints{6, 4}));
  EXPECT_EQ(dims_of(graph, "f3"), (Ints{24, 1}));
  EXPECT_EQ(graph.value("f1").dtype(), DataType::Int8);
  EXPECT_EQ(dims_of(graph, "t_default"), (Ints{4, 3, 2}));
  EXPECT_EQ(dims_of(graph, "t"), (Ints{2, 4, 3}));

  Graph bad_perm;
  bad_perm.add_input("x", DataType::Float32, Shape{2, 3, 4});
  bad_perm.add_node("Transpose", {"x"}, {"y"}, attrs({{"perm", Ints{0, 1, 1}}}), "transpose");
  expect_inference_error(bad_perm, {"node 'transpose'", "perm", "[0,1,1]"});
}

TEST(SchemaShape, ReshapeCopiesZerosAndInfersMinusOne) {
  struct Case {
    Shape in;
    Ints shape;
    Shape out;
  };
  for (const Case& c : {Case{Shape{2, 3, 4}, {0, -1}, Shape{2, 12}}, Case{Shape{2, 3, 4}, {-1, 4}, Shape{6, 4}},
                        Case{Shape{2, 3, 4}, {4, 0, 2}, Shape{4, 3, 2}}, Case{Shape{2, 3, 4}, {24}, Shape{24}},
                        Case{Shape{N, 3, 4}, {0, -1}, Shape{N, 12}}, Case{Shape{N, 3, 4}, {-1, 12}, Shape{N, 12}},
                        Case{Shape{N, 3, 4}, {0, 2, -1}, Shape{N, 2, 6}}}) {
    Graph graph;
    graph.add_input("x", DataType::Float32, c.in);
    add_ints(graph, "shape", c.shape);
    graph.add_node("Reshape", {"x", "shape"}, {"y"});
    EXPECT_EQ(inferred(graph, "y"), c.out.dims()) << c.in.to_string() << " to " << tern::to_string(c.shape);
  }
  Graph mismatch;
  mismatch.add_input("x", DataType::Float32, Shape{2, 3, 4});
  add_ints(mismatch, "shape", {5, -1});
  mismatch.add_node("Reshape", {"x", "shape"}, {"y"}, {}, "reshape");
  expect_inference_error(mismatch, {"node 'reshape'", "[5,-1]"});
}

TEST(SchemaShape, ReshapeToARunTimeShapeKnowsOnlyTheRank) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 3, 4});
  graph.add_input("shape", DataType::Int64, Shape{2});
  graph.add_node("Reshape", {"x", "shape"}, {"y"}, {}, "reshape");
  EXPECT_EQ(inferred(graph, "y"), (Ints{N, N}));
  Graph unknown_rank;
  unknown_rank.add_input("x", DataType::Float32, Shape{2, 3, 4});
  unknown_rank.add_input("shape", DataType::Int64, Shape{N});
  unknown_rank.add_node("Reshape", {"x", "shape"}, {"y"}, {}, "reshape");
  expect_inference_error(unknown_rank, {"node 'reshape'", "'shape'", "static length"});
}

TEST(SchemaShape, Concat) {
  Graph graph;
  graph.add_input("a", DataType::Float32, Shape{N, 3});
  graph.add_input("b", DataType::Float32, Shape{2, 5});
  graph.add_input("c", DataType::Float32, Shape{2, 1});
  graph.add_node("Concat", {"a", "b", "c"}, {"y"}, attrs({{"axis", i64(-1)}}));
  // The static 2 of b and c fixes a's dynamic first dimension.
  EXPECT_EQ(inferred(graph, "y"), (Ints{2, 9}));

  Graph dynamic_axis;
  dynamic_axis.add_input("a", DataType::Float32, Shape{N, 3});
  dynamic_axis.add_input("b", DataType::Float32, Shape{2, 3});
  dynamic_axis.add_node("Concat", {"a", "b"}, {"y"}, attrs({{"axis", i64(0)}}));
  EXPECT_EQ(inferred(dynamic_axis, "y"), (Ints{N, 3}));

  Graph ranks;
  ranks.add_input("a", DataType::Float32, Shape{2, 3});
  ranks.add_input("b", DataType::Float32, Shape{2, 3, 1});
  ranks.add_node("Concat", {"a", "b"}, {"y"}, attrs({{"axis", i64(1)}}), "cat");
  expect_inference_error(ranks, {"node 'cat'", "rank 3", "rank 2"});

  Graph dims;
  dims.add_input("a", DataType::Float32, Shape{2, 3});
  dims.add_input("b", DataType::Float32, Shape{4, 3});
  dims.add_node("Concat", {"a", "b"}, {"y"}, attrs({{"axis", i64(1)}}), "cat");
  expect_inference_error(dims, {"node 'cat'", "dimension 0"});
}

TEST(SchemaShape, Pad) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{N, 3, 4, 4});
  add_ints(graph, "pads", {0, 0, 1, 2, 0, 0, 3, 4});
  add_ints(graph, "pads_hw", {1, 1, 2, -1});
  add_ints(graph, "axes", {2, -1});
  add_weights(graph, "zero", Shape{});
  graph.add_node("Pad", {"x", "pads", "zero"}, {"all"});
  graph.add_node("Pad", {"x", "pads_hw", "", "axes"}, {"hw"}, attrs({{"mode", std::string("reflect")}}));
  graph.infer_shapes();
  EXPECT_EQ(dims_of(graph, "all"), (Ints{N, 3, 8, 10}));
  // H: 4 + 1 + 2 = 7; W: 4 + 1 - 1 = 4 (a negative pad crops).
  EXPECT_EQ(dims_of(graph, "hw"), (Ints{N, 3, 7, 4}));

  Graph runtime_pads;
  runtime_pads.add_input("x", DataType::Float32, Shape{1, 4});
  runtime_pads.add_input("pads", DataType::Int64, Shape{4});
  runtime_pads.add_node("Pad", {"x", "pads"}, {"y"}, {}, "pad");
  EXPECT_EQ(inferred(runtime_pads, "y"), (Ints{N, N})); // sizes known when it runs

  Graph count;
  count.add_input("x", DataType::Float32, Shape{1, 4});
  add_ints(count, "pads", {1, 1});
  count.add_node("Pad", {"x", "pads"}, {"y"}, {}, "pad");
  expect_inference_error(count, {"node 'pad'", "expected 4"});
}

TEST(SchemaDynamic, BatchStaysDynamicThroughAClassifier) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{N, 3, 8, 8});
  add_weights(graph, "w", Shape{4, 3, 3, 3});
  add_weights(graph, "fc_w", Shape{144, 10});
  add_weights(graph, "fc_b", Shape{10});
  add_ints(graph, "shape", {0, -1});
  graph.add_node("Conv", {"x", "w"}, {"c"});
  graph.add_node("Relu", {"c"}, {"r"});
  graph.add_node("Flatten", {"r"}, {"f"});
  graph.add_node("Reshape", {"r", "shape"}, {"flat"});
  graph.add_node("Gemm", {"f", "fc_w", "fc_b"}, {"y"});
  graph.add_node("Gemm", {"r", "fc_w", "fc_b"}, {"y_direct"});
  graph.add_output("y");
  graph.add_output("y_direct");
  graph.infer_shapes();
  EXPECT_EQ(dims_of(graph, "c"), (Ints{N, 4, 6, 6}));
  EXPECT_EQ(dims_of(graph, "f"), (Ints{N, 144}));
  EXPECT_EQ(dims_of(graph, "flat"), (Ints{N, 144}));
  EXPECT_EQ(dims_of(graph, "y"), (Ints{N, 10}));
  EXPECT_EQ(dims_of(graph, "y_direct"), (Ints{N, 10}));
  EXPECT_EQ(graph.value("y").dtype(), DataType::Float32);
}
