// Integer execution in the core: the Requantize schema, the integer forms of Conv/Gemm/
// MatMul (int32 accumulation, fused requantize_* attributes) with their errors, and the
// fuse_requantize recipe (what it folds and what it must leave alone).
#include <tern/recipes.hpp>

#include <gtest/gtest.h>

#include "schema_testing.hpp"

using tern::Attributes;
using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using tern::test::attrs;
using tern::test::expect_inference_error;
using Ints = std::vector<std::int64_t>;

namespace {

constexpr std::int64_t N = Shape::dynamic;

Attributes requantize(std::vector<double> scale, std::int64_t lo, std::int64_t hi, const char* to,
                      std::int64_t axis = 1) {
  return attrs({{"scale", std::move(scale)}, {"lo", lo}, {"hi", hi}, {"to", std::string(to)}, {"axis", axis}});
}

/// x uint8[N,2,5,5] -> Conv(int8 W [3,2,3,3], int32 B) -> acc.
Graph integer_conv(DataType w_type = DataType::Int8, DataType b_type = DataType::Int32) {
  Graph graph;
  graph.add_input("x", DataType::UInt8, Shape{N, 2, 5, 5});
  graph.add_constant("w", Tensor(Shape{3, 2, 3, 3}, w_type));
  graph.add_constant("b", Tensor(Shape{3}, b_type));
  graph.add_node("Conv", {"x", "w", "b"}, {"acc"}, {}, "conv");
  return graph;
}

} // namespace

TEST(RequantizeSchema, OutputTypeAndShape) {
  for (const DataType in : {DataType::Float32, DataType::Int32, DataType::Int8, DataType::UInt8}) {
    Graph graph =
        tern::test::one_node("Requantize", Shape{N, 3, 4}, {}, requantize({0.5, 0.25, 1.0}, 0, 255, "uint8"), in);
    EXPECT_EQ(tern::test::inferred(graph), (Ints{N, 3, 4}));
    EXPECT_EQ(graph.value("y").dtype(), DataType::UInt8);
  }
  Graph scalar = tern::test::one_node("Requantize", Shape{}, {}, requantize({0.5}, -128, 127, "int8"), DataType::Int32);
  EXPECT_EQ(tern::test::inferred(scalar), Ints{});
  EXPECT_EQ(scalar.value("y").dtype(), DataType::Int8);
}

TEST(RequantizeSchema, ErrorsNameTheNode) {
  const auto fails = [](Attributes a, DataType in, std::initializer_list<const char*> parts) {
    Graph graph = tern::test::one_node("Requantize", Shape{2, 3}, {}, std::move(a), in);
    expect_inference_error(graph, parts);
  };
  fails(requantize({1.0}, 5, 4, "int8"), DataType::Int32, {"node 'n' (Requantize)", "'lo' (5) is above 'hi' (4)"});
  fails(requantize({1.0}, -1, 255, "uint8"), DataType::Int32, {"node 'n'", "does not fit uint8"});
  fails(requantize({1.0}, 0, 300, "int8"), DataType::Int32, {"does not fit int8"});
  fails(requantize({1.0, 2.0}, 0, 10, "int8"), DataType::Int32, {"'scale' has 2 values; expected 1 or 3"});
  fails(requantize({1.0}, 0, 10, "int16"), DataType::Int32, {"'to' is 'int16'"});
  fails(requantize({1.0}, 0, 10, "int8"), DataType::Int64, {"must be float32, int32, int8 or uint8"});
}

TEST(IntegerAffineSchema, AccumulatesInInt32OrRequantizes) {
  Graph graph = integer_conv();
  graph.add_output("acc");
  EXPECT_EQ(tern::test::inferred(graph, "acc"), (Ints{N, 3, 3, 3}));
  EXPECT_EQ(graph.value("acc").dtype(), DataType::Int32);

  Graph fused = integer_conv();
  Attributes& a = fused.find_node("conv")->attrs();
  a.set("requantize_scale", std::vector<double>{0.1, 0.2, 0.3});
  a.set("requantize_lo", std::int64_t{0});
  a.set("requantize_hi", std::int64_t{255});
  a.set("requantize_to", std::string("uint8"));
  fused.add_output("acc");
  fused.infer_shapes();
  EXPECT_EQ(fused.value("acc").dtype(), DataType::UInt8);

  Graph gemm;
  gemm.add_input("a", DataType::Int8, Shape{N, 2, 4});
  gemm.add_constant("w", Tensor(Shape{8, 5}, DataType::Int8));
  gemm.add_constant("c", Tensor(Shape{1, 5}, DataType::Int32));
  gemm.add_node("Gemm", {"a", "w", "c"}, {"y"}, {}, "fc");
  gemm.add_node("MatMul", {"a", "m"}, {"z"}, {}, "mm");
  gemm.add_constant("m", Tensor(Shape{4, 6}, DataType::Int8));
  gemm.add_output("y");
  gemm.add_output("z");
  gemm.infer_shapes();
  EXPECT_EQ(gemm.value("y").dtype(), DataType::Int32);
  EXPECT_EQ(gemm.value("y").shape(), (Shape{N, 5}));
  EXPECT_EQ(gemm.value("z").dtype(), DataType::Int32);
  EXPECT_EQ(gemm.value("z").shape(), (Shape{N, 2, 6}));
}

TEST(IntegerAffineSchema, ErrorsNameTheNode) {
  Graph float_w = integer_conv(DataType::Float32);
  float_w.add_output("acc");
  expect_inference_error(float_w, {"node 'conv' (Conv)", "must be int8 when"});

  Graph int8_bias = integer_conv(DataType::Int8, DataType::Int8);
  int8_bias.add_output("acc");
  expect_inference_error(int8_bias, {"node 'conv'", "must be int32"});

  Graph partial = integer_conv();
  partial.find_node("conv")->attrs().set("requantize_scale", std::vector<double>{0.5});
  partial.add_output("acc");
  expect_inference_error(partial, {"node 'conv'", "'requantize_lo' is missing"});

  Graph channels = integer_conv();
  Attributes& a = channels.find_node("conv")->attrs();
  a.set("requantize_scale", std::vector<double>{0.1, 0.2});
  a.set("requantize_lo", std::int64_t{0});
  a.set("requantize_hi", std::int64_t{255});
  a.set("requantize_to", std::string("uint8"));
  channels.add_output("acc");
  expect_inference_error(channels, {"'requantize_scale' has 2 values; expected 1 or 3"});

  Graph float_conv;
  float_conv.add_input("x", DataType::Float32, Shape{1, 2, 5, 5});
  float_conv.add_constant("w", Tensor(Shape{3, 2, 3, 3}, DataType::Float32));
  float_conv.add_node("Conv", {"x", "w"}, {"y"},
                      attrs({{"requantize_scale", std::vector<double>{1.0}},
                             {"requantize_lo", std::int64_t{0}},
                             {"requantize_hi", std::int64_t{1}},
                             {"requantize_to", std::string("int8")}}),
                      "conv");
  float_conv.add_output("y");
  expect_inference_error(float_conv, {"node 'conv'", "requantize_* attributes need integer inputs"});

  Graph activation = integer_conv();
  activation.find_node("conv")->attrs().set("activation", std::string("Relu"));
  activation.add_output("acc");
  expect_inference_error(activation, {"node 'conv'", "take no fused activation"});
}

TEST(FuseRequantize, FoldsIntoConvGemmAndMatMul) {
  Graph graph = integer_conv();
  graph.add_node("Requantize", {"acc"}, {"q"}, requantize({0.1, 0.2, 0.3}, 0, 255, "uint8"), "rq");
  tern::test::add_ints(graph, "shape", {0, -1});
  graph.add_node("Reshape", {"q", "shape"}, {"r"});
  graph.add_constant("w2", Tensor(Shape{27, 4}, DataType::Int8));
  graph.add_node("Gemm", {"r", "w2"}, {"acc2"}, {}, "fc");
  graph.add_node("Requantize", {"acc2"}, {"q2"}, requantize({0.5, 0.5, 0.25, 1.0}, -128, 127, "int8", -1), "rq2");
  graph.add_constant("w3", Tensor(Shape{4, 2}, DataType::Int8));
  graph.add_node("MatMul", {"q2", "w3"}, {"acc3"}, {}, "mm");
  graph.add_node("Requantize", {"acc3"}, {"logits"}, requantize({0.5}, -128, 127, "int8", 0), "rq3");
  graph.add_output("logits");

  EXPECT_EQ(tern::fuse_requantize(graph), 3u);
  EXPECT_EQ(graph.node_count(), 4u);
  const tern::Node& conv = *graph.find_node("conv");
  EXPECT_EQ(conv.attr<std::vector<double>>("requantize_scale"), (std::vector<double>{0.1, 0.2, 0.3}));
  EXPECT_EQ(conv.attr<std::int64_t>("requantize_lo"), 0);
  EXPECT_EQ(conv.attr<std::int64_t>("requantize_hi"), 255);
  EXPECT_EQ(conv.attr<std::string>("requantize_to"), "uint8");
  EXPECT_EQ(conv.output()->dtype(), DataType::UInt8);
  EXPECT_EQ(graph.find_node("fc")->attr<std::string>("requantize_to"), "int8");
  // The graph output keeps its name, now produced by the MatMul.
  EXPECT_EQ(graph.outputs().at(0)->name(), "logits");
  EXPECT_EQ(graph.outputs().at(0)->producer(), graph.find_node("mm"));
  EXPECT_EQ(graph.outputs().at(0)->dtype(), DataType::Int8);
  graph.validate();
}

TEST(FuseRequantize, LeavesWhatItCannotFold) {
  // The accumulation is also a graph output.
  Graph output = integer_conv();
  output.add_node("Requantize", {"acc"}, {"q"}, requantize({0.1}, -128, 127, "int8"), "rq");
  output.add_output("acc");
  output.add_output("q");
  EXPECT_EQ(tern::fuse_requantize(output), 0u);

  // Two readers of the accumulation.
  Graph shared = integer_conv();
  shared.add_node("Requantize", {"acc"}, {"q"}, requantize({0.1}, -128, 127, "int8"), "rq");
  shared.add_node("Requantize", {"acc"}, {"q2"}, requantize({0.2}, -128, 127, "int8"), "rq2");
  shared.add_output("q");
  shared.add_output("q2");
  EXPECT_EQ(tern::fuse_requantize(shared), 0u);

  // Per channel along a spatial axis, not the Conv's output channels.
  Graph axis = integer_conv();
  axis.add_node("Requantize", {"acc"}, {"q"}, requantize({0.1, 0.2, 0.3}, -128, 127, "int8", 2), "rq");
  axis.add_output("q");
  EXPECT_EQ(tern::fuse_requantize(axis), 0u);

  // A float Conv's output (float32 Requantize input) is not an integer accumulation.
  Graph float_conv;
  float_conv.add_input("x", DataType::Float32, Shape{1, 2, 5, 5});
  float_conv.add_constant("w", Tensor(Shape{3, 2, 3, 3}, DataType::Float32));
  float_conv.add_node("Conv", {"x", "w"}, {"y"}, {}, "conv");
  float_conv.add_node("Requantize", {"y"}, {"q"}, requantize({0.1}, -128, 127, "int8"), "rq");
  float_conv.add_output("q");
  EXPECT_EQ(tern::fuse_requantize(float_conv), 0u);
}

TEST(FuseRequantize, FuseActivationsLeavesIntegerConvAlone) {
  Graph graph = integer_conv();
  graph.add_node("Requantize", {"acc"}, {"q"}, requantize({0.1}, -128, 127, "int8"), "rq");
  graph.add_node("Relu", {"q"}, {"y"}, {}, "relu");
  graph.add_output("y");
  EXPECT_EQ(tern::fuse_requantize(graph), 1u);
  EXPECT_EQ(tern::fuse_activations(graph), 0u);
  EXPECT_EQ(graph.node_count(), 2u);
}
