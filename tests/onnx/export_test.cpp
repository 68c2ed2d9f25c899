// tern::save_model to .onnx: checker-valid output, Tern's extensions spelled in plain
// ONNX, and a float round trip import -> export -> import that keeps the graph.
#include "model_builder.hpp"

#include <tern/tern.hpp>

#include <onnx/checker.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tern::onnx_test {
namespace {

using ::testing::HasSubstr;
using Ints = std::vector<std::int64_t>;

/// Saves `graph`, then parses the file and runs the ONNX checker on it.
onnx::ModelProto save_and_check(const Graph& graph, const std::filesystem::path& path) {
  save_model(graph, path);
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromString(read_bytes(path)));
  EXPECT_NO_THROW(onnx::checker::check_model(model));
  return model;
}

std::vector<std::string> onnx_op_types(const onnx::ModelProto& model) {
  std::vector<std::string> types;
  for (const onnx::NodeProto& node : model.graph().node()) types.push_back(node.op_type());
  return types;
}

std::int64_t default_opset(const onnx::ModelProto& model) {
  for (const auto& opset : model.opset_import())
    if (opset.domain().empty()) return opset.version();
  return -1;
}

std::vector<std::string> op_types(const Graph& graph) {
  std::vector<std::string> types;
  for (const Node* node : graph.topological_order()) types.push_back(node->op_type());
  return types;
}

/// A small float classifier: Conv, BatchNormalization, Relu, MaxPool, Flatten, Gemm, Softmax.
ModelBuilder classifier() {
  ModelBuilder m(13);
  m.input("image", {"N", 2, 4, 4}).output("probs", {"N", 3});
  std::vector<float> w(3 * 2 * 3 * 3);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 7) * 0.125f - 0.25f;
  m.floats("conv.w", {3, 2, 3, 3}, w).floats("conv.b", {3}, {0.1f, 0.2f, 0.3f});
  m.floats("bn.scale", {3}, {1, 2, 3}).floats("bn.bias", {3}, {0, 1, 0}).floats("bn.mean", {3}, {0.5f, 0, 0});
  m.floats("bn.var", {3}, {1, 1, 4});
  std::vector<float> fc(5 * 12);
  for (std::size_t i = 0; i < fc.size(); ++i) fc[i] = static_cast<float>(i) / 60.0f;
  m.floats("fc.w", {12, 3}, std::vector<float>(fc.begin(), fc.begin() + 36)).floats("fc.b", {3}, {0, 0, 1});
  set_attr(m.node("Conv", {"image", "conv.w", "conv.b"}, {"c"}, "conv"), "pads", Ints{1, 1, 1, 1});
  m.node("BatchNormalization", {"c", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, {"bn"}, "bn");
  m.node("Relu", {"bn"}, {"r"}, "relu");
  onnx::NodeProto& pool = m.node("MaxPool", {"r"}, {"p"}, "pool");
  set_attr(pool, "kernel_shape", Ints{2, 2});
  set_attr(pool, "strides", Ints{2, 2});
  m.node("Flatten", {"p"}, {"f"}, "flatten");
  m.node("Gemm", {"f", "fc.w", "fc.b"}, {"logits"}, "fc");
  m.node("Softmax", {"logits"}, {"probs"}, "softmax");
  return m;
}

TEST(OnnxExport, FloatRoundTripKeepsTheGraph) {
  TempDir dir;
  const Graph first = load_model(classifier().save(dir / "in.onnx"));
  const onnx::ModelProto written = save_and_check(first, dir / "out.onnx");
  EXPECT_EQ(written.ir_version(), 8);
  EXPECT_EQ(default_opset(written), 13);
  const Graph second = load_model(dir / "out.onnx");

  EXPECT_EQ(op_types(second), op_types(first));
  EXPECT_EQ(second.node_count(), first.node_count());
  const auto firsts = first.constants();
  const auto seconds = second.constants();
  ASSERT_EQ(seconds.size(), firsts.size());
  for (std::size_t i = 0; i < firsts.size(); ++i) {
    EXPECT_EQ(seconds[i]->name(), firsts[i]->name());
    EXPECT_EQ(seconds[i]->dtype(), firsts[i]->dtype());
    EXPECT_EQ(seconds[i]->shape(), firsts[i]->shape());
    EXPECT_EQ(seconds[i]->constant()->to_doubles(), firsts[i]->constant()->to_doubles()) << firsts[i]->name();
  }
  for (const Node* node : first.nodes()) {
    const Node* twin = second.find_node(node->name());
    ASSERT_NE(twin, nullptr) << node->name();
    EXPECT_EQ(twin->attrs().all().size(), node->attrs().all().size()) << node->name();
  }
  ASSERT_EQ(second.inputs().size(), 1u);
  EXPECT_EQ(second.inputs()[0]->shape(), (Shape{Shape::dynamic, 2, 4, 4}));
  EXPECT_EQ(second.outputs()[0]->name(), "probs");
  EXPECT_EQ(second.outputs()[0]->shape(), (Shape{Shape::dynamic, 3}));
}

TEST(OnnxExport, DynamicDimensionsBecomeDimParams) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 3, Shape::dynamic});
  graph.add_node("Relu", {"x"}, {"y"});
  graph.add_output("y");
  TempDir dir;
  const onnx::ModelProto model = save_and_check(graph, dir / "out.onnx");
  const auto& dims = model.graph().input(0).type().tensor_type().shape().dim();
  ASSERT_EQ(dims.size(), 3);
  EXPECT_EQ(dims[0].dim_param(), "N");
  EXPECT_EQ(dims[1].dim_value(), 3);
  EXPECT_EQ(dims[2].dim_param(), "x_d2");
  EXPECT_EQ(model.graph().output(0).type().tensor_type().shape().dim(0).dim_param(), "N");
}

TEST(OnnxExport, CastTargetBecomesTheOnnxEnum) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{4});
  Attributes attrs;
  attrs.set("to", std::string("int8"));
  graph.add_node("Cast", {"x"}, {"y"}, attrs, "cast");
  graph.add_output("y");
  TempDir dir;
  const onnx::ModelProto model = save_and_check(graph, dir / "out.onnx");
  ASSERT_EQ(model.graph().node_size(), 1);
  const onnx::AttributeProto& to = model.graph().node(0).attribute(0);
  EXPECT_EQ(to.name(), "to");
  EXPECT_EQ(to.type(), onnx::AttributeProto::INT);
  EXPECT_EQ(to.i(), onnx::TensorProto::INT8);
  EXPECT_EQ(model.graph().output(0).type().tensor_type().elem_type(), onnx::TensorProto::INT8);
  EXPECT_EQ(load_model(dir / "out.onnx").find_node("cast")->attrs().get<std::string>("to"), "int8");
}

TEST(OnnxExport, GemmOnRank4InputGetsItsFlattenBack) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 2, 2, 2});
  graph.add_constant("w", Tensor::from_floats(Shape{8, 3}, std::vector<float>(24, 0.5f)));
  graph.add_node("Gemm", {"x", "w"}, {"y"}, {}, "fc");
  graph.add_output("y");
  TempDir dir;
  const onnx::ModelProto model = save_and_check(graph, dir / "out.onnx");
  EXPECT_EQ(onnx_op_types(model), (std::vector<std::string>{"Flatten", "Gemm"}));
  EXPECT_EQ(model.graph().node(0).input(0), "x");
  EXPECT_EQ(model.graph().node(1).input(0), model.graph().node(0).output(0));
  EXPECT_EQ(model.graph().node(1).output(0), "y");
  const Graph again = load_model(dir / "out.onnx");
  EXPECT_EQ(again.value("y").shape(), (Shape{Shape::dynamic, 3}));
}

/// x [1, 1, 3, 3] -> a 1x1 Conv carrying fused `activation` (parameter `alpha`) -> y.
Graph conv_with_activation(const std::string& activation, double alpha) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 1, 3, 3});
  graph.add_constant("w", Tensor::from_floats(Shape{1, 1, 1, 1}, {2.0f}));
  Attributes attrs;
  attrs.set("activation", activation);
  attrs.set("activation_alpha", alpha);
  graph.add_node("Conv", {"x", "w"}, {"y"}, attrs, "conv");
  graph.add_output("y");
  return graph;
}

TEST(OnnxExport, FusedActivationBecomesItsOwnNode) {
  // `activation` and its parameters are the Tern extension fuse_activations() sets
  // (core/src/ops/fused_activation.hpp).
  TempDir dir;
  const onnx::ModelProto model = save_and_check(conv_with_activation("LeakyRelu", 0.2), dir / "out.onnx");
  ASSERT_EQ(onnx_op_types(model), (std::vector<std::string>{"Conv", "LeakyRelu"}));
  EXPECT_EQ(model.graph().node(0).attribute_size(), 0);
  EXPECT_EQ(model.graph().node(1).input(0), model.graph().node(0).output(0));
  EXPECT_EQ(model.graph().node(1).output(0), "y");
  ASSERT_EQ(model.graph().node(1).attribute_size(), 1);
  EXPECT_EQ(model.graph().node(1).attribute(0).name(), "alpha");
  EXPECT_FLOAT_EQ(model.graph().node(1).attribute(0).f(), 0.2f);
}

TEST(OnnxExport, FusedSiluBecomesSigmoidAndMul) {
  // fuse_silu's "SiLU" has no ONNX op: it goes back to the two nodes it was folded from.
  TempDir dir;
  const onnx::ModelProto model = save_and_check(conv_with_activation("SiLU", 0.0), dir / "out.onnx");
  ASSERT_EQ(onnx_op_types(model), (std::vector<std::string>{"Conv", "Sigmoid", "Mul"}));
  const std::string conv = model.graph().node(0).output(0);
  EXPECT_EQ(model.graph().node(1).input(0), conv);
  EXPECT_EQ(model.graph().node(2).input(0), conv);
  EXPECT_EQ(model.graph().node(2).input(1), model.graph().node(1).output(0));
  EXPECT_EQ(model.graph().node(2).output(0), "y");
}

TEST(OnnxExport, FusedClipGetsItsBoundsAsInputs) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 4});
  graph.add_constant("w", Tensor::from_floats(Shape{4, 2}, std::vector<float>(8, 1.0f)));
  Attributes attrs;
  attrs.set("activation", std::string("Clip"));
  attrs.set("activation_alpha", 0.0);
  attrs.set("activation_beta", 6.0);
  graph.add_node("Gemm", {"x", "w"}, {"y"}, attrs, "fc");
  graph.add_output("y");
  TempDir dir;
  const onnx::ModelProto model = save_and_check(graph, dir / "out.onnx");
  ASSERT_EQ(onnx_op_types(model), (std::vector<std::string>{"Gemm", "Clip"}));
  const Graph again = load_model(dir / "out.onnx");
  const Node& clip = *again.topological_order().back();
  EXPECT_EQ(clip.op_type(), "Clip");
  EXPECT_EQ(clip.output()->name(), "y");
  EXPECT_EQ(clip.input(1)->constant()->to_doubles(), std::vector<double>{0.0});
  EXPECT_EQ(clip.input(2)->constant()->to_doubles(), std::vector<double>{6.0});
}

TEST(OnnxExport, AttributeNewerThanOpset13RaisesTheOpset) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 3});
  graph.add_constant("shape", Tensor::from(Shape{1}, DataType::Int64, std::vector<std::int64_t>{6}));
  Attributes attrs;
  attrs.set("allowzero", std::int64_t{1});
  graph.add_node("Reshape", {"x", "shape"}, {"y"}, attrs);
  graph.add_output("y");
  TempDir dir;
  EXPECT_EQ(default_opset(save_and_check(graph, dir / "out.onnx")), 14);
}

TEST(OnnxExport, HardSwishRaisesTheOpsetTo14) {
  // MobileNetV3 exported at opset 14+ has HardSwish nodes; a quantized copy kept them in
  // float (--keep-float) and was written at opset 13, which the ONNX checker refused.
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 3});
  graph.add_node("HardSwish", {"x"}, {"y"});
  graph.add_output("y");
  TempDir dir;
  EXPECT_EQ(default_opset(save_and_check(graph, dir / "out.onnx")), 14);
}

TEST(OnnxExport, LayerNormalizationRaisesTheOpsetTo17) {
  // ONNX has the op only since opset 17 (PyTorch writes it for LayerNorm at 17).
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 3});
  graph.add_constant("scale", Tensor::from(Shape{3}, DataType::Float32, std::vector<float>{1, 2, 3}));
  graph.add_node("LayerNormalization", {"x", "scale"}, {"y"});
  graph.add_output("y");
  TempDir dir;
  const onnx::ModelProto model = save_and_check(graph, dir / "out.onnx");
  EXPECT_EQ(default_opset(model), 17);
  EXPECT_EQ(op_types(load_model(dir / "out.onnx")), std::vector<std::string>{"LayerNormalization"});
}

TEST(OnnxExport, Int4IsRefused) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2});
  graph.add_constant("q", Tensor::from(Shape{2}, DataType::Int4, std::vector<std::int8_t>{-8, 7}));
  Attributes attrs;
  attrs.set("to", std::string("float32"));
  graph.add_node("Cast", {"q"}, {"qf"}, attrs);
  graph.add_node("Add", {"x", "qf"}, {"y"});
  graph.add_output("y");
  TempDir dir;
  const auto path = dir / "out.onnx";
  try {
    save_model(graph, path);
    FAIL() << "an int4 constant was exported";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(path.string() + ": "));
    EXPECT_THAT(error.what(), HasSubstr("'q' is int4, which ONNX 1.12 cannot store"));
  }
}

} // namespace
} // namespace tern::onnx_test
