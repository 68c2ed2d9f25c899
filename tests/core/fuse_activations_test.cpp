// fuse_activations: Conv/Gemm + activation become one node with the activation in
// attributes. Fused and unfused graphs run on the "reference" backend, whose Conv and Gemm
// apply a fused activation from its ONNX definition, and must agree.
#include <tern/recipes.hpp>
#include <tern/scheduler.hpp>

#include <gtest/gtest.h>

#include "graphs.hpp"
#include "reference_backend.hpp"

#include <algorithm>

using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using tern::test::random_tensor;

namespace {

constexpr std::int64_t N = Shape::dynamic;
const DataType f32 = DataType::Float32;

/// x[N,3,6,6] -> Conv(3->4, 3x3, pad 1, bias) -> c, the start of the Conv tests.
Graph conv_stem() {
  Graph graph;
  graph.add_input("x", f32, Shape{N, 3, 6, 6});
  graph.add_constant("w", random_tensor(Shape{4, 3, 3, 3}, 51));
  graph.add_constant("b", random_tensor(Shape{4}, 52));
  tern::Attributes conv;
  conv.set("pads", std::vector<std::int64_t>{1, 1, 1, 1});
  graph.add_node("Conv", {"x", "w", "b"}, {"c"}, conv, "conv");
  return graph;
}

} // namespace

class FuseActivations : public ::testing::Test {
protected:
  void SetUp() override { tern::test::register_reference_backend(); }
};

TEST_F(FuseActivations, ConvReluFoldsAndKeepsResults) {
  Graph graph = conv_stem();
  graph.add_node("Relu", {"c"}, {"y"}, {}, "relu");
  graph.add_output("y");
  Graph fused = graph.clone();
  ASSERT_EQ(tern::fuse_activations(fused), 1u);
  EXPECT_EQ(fused.node_count(), 1u);
  EXPECT_EQ(fused.find_node("relu"), nullptr);
  EXPECT_EQ(fused.outputs()[0]->name(), "y");
  EXPECT_EQ(fused.value("y").producer(), fused.find_node("conv"));
  EXPECT_EQ(fused.find_node("conv")->attr<std::string>("activation"), "Relu");
  EXPECT_NO_THROW(fused.validate());

  const Tensor x = random_tensor(Shape{2, 3, 6, 6}, 53);
  const Tensor expected = tern::test::run_reference(graph, x);
  const std::vector<double> values = expected.to_doubles();
  // Relu mattered: some outputs were clamped to 0, some stayed positive.
  EXPECT_EQ(*std::min_element(values.begin(), values.end()), 0.0);
  EXPECT_GT(*std::max_element(values.begin(), values.end()), 0.0);
  EXPECT_LT(tern::test::max_abs_diff(expected, tern::test::run_reference(fused, x)), 1e-5);
}

TEST_F(FuseActivations, GemmClipFoldsItsConstantBounds) {
  Graph graph;
  graph.add_input("x", f32, Shape{N, 8});
  graph.add_constant("B", random_tensor(Shape{8, 5}, 61, -4.0f, 4.0f));
  graph.add_constant("C", random_tensor(Shape{5}, 62));
  graph.add_constant("low", Tensor::from_floats(Shape{}, {0.0f}));
  graph.add_constant("high", Tensor::from_floats(Shape{}, {6.0f}));
  graph.add_node("Gemm", {"x", "B", "C"}, {"g"}, {}, "fc");
  graph.add_node("Clip", {"g", "low", "high"}, {"y"}, {}, "clip");
  graph.add_output("y");
  Graph fused = graph.clone();
  ASSERT_EQ(tern::fuse_activations(fused), 1u);
  EXPECT_EQ(fused.node_count(), 1u);
  EXPECT_EQ(fused.outputs()[0]->name(), "y");
  const tern::Node& fc = *fused.find_node("fc");
  EXPECT_EQ(fc.attr<std::string>("activation"), "Clip");
  EXPECT_DOUBLE_EQ(fc.attr<double>("activation_alpha"), 0.0);
  EXPECT_DOUBLE_EQ(fc.attr<double>("activation_beta"), 6.0);
  EXPECT_EQ(fused.find_value("high"), nullptr); // the bounds went with the Clip

  const Tensor x = random_tensor(Shape{16, 8}, 63);
  const Tensor expected = tern::test::run_reference(graph, x);
  const std::vector<double> values = expected.to_doubles();
  // Both bounds were hit, so a fused Gemm ignoring them would differ.
  EXPECT_EQ(*std::min_element(values.begin(), values.end()), 0.0);
  EXPECT_EQ(*std::max_element(values.begin(), values.end()), 6.0);
  EXPECT_LT(tern::test::max_abs_diff(expected, tern::test::run_reference(fused, x)), 1e-5);
}

TEST_F(FuseActivations, InnerActivationsFoldToo) {
  // conv -> Relu -> conv2 -> Sigmoid -> y: both fold; conv2 then reads conv's output.
  Graph graph = conv_stem();
  graph.add_node("Relu", {"c"}, {"r"}, {}, "relu");
  graph.add_constant("w2", random_tensor(Shape{2, 4, 3, 3}, 71));
  graph.add_node("Conv", {"r", "w2"}, {"c2"}, {}, "conv2");
  graph.add_node("Sigmoid", {"c2"}, {"y"}, {}, "sigmoid");
  graph.add_output("y");
  Graph fused = graph.clone();
  ASSERT_EQ(tern::fuse_activations(fused), 2u);
  EXPECT_EQ(fused.node_count(), 2u);
  EXPECT_EQ(fused.find_node("conv2")->input(0)->producer(), fused.find_node("conv"));
  EXPECT_EQ(fused.find_node("conv2")->attr<std::string>("activation"), "Sigmoid");
  const Tensor x = random_tensor(Shape{1, 3, 6, 6}, 72);
  EXPECT_LT(tern::test::max_abs_diff(tern::test::run_reference(graph, x), tern::test::run_reference(fused, x)), 1e-5);
}

TEST_F(FuseActivations, LeavesSharedOrUnfoldableOutputsAlone) {
  // The conv output is also read by Add: folding Relu would change what Add sees.
  Graph shared = conv_stem();
  shared.add_node("Relu", {"c"}, {"r"}, {}, "relu");
  shared.add_node("Add", {"c", "r"}, {"y"});
  shared.add_output("y");
  EXPECT_EQ(tern::fuse_activations(shared), 0u);
  EXPECT_EQ(shared.node_count(), 3u);
  EXPECT_EQ(shared.find_node("conv")->attr<std::string>("activation"), "");

  // The conv output is a graph output: users would lose the pre-activation value.
  Graph output = conv_stem();
  output.add_node("Relu", {"c"}, {"y"}, {}, "relu");
  output.add_output("c");
  output.add_output("y");
  EXPECT_EQ(tern::fuse_activations(output), 0u);

  // A Clip bound computed at run time cannot become an attribute.
  Graph runtime_bound = conv_stem();
  runtime_bound.add_input("high", f32, Shape{});
  runtime_bound.add_node("Clip", {"c", "", "high"}, {"y"}, {}, "clip");
  runtime_bound.add_output("y");
  EXPECT_EQ(tern::fuse_activations(runtime_bound), 0u);
  EXPECT_NE(runtime_bound.find_node("clip"), nullptr);
}

/// conv_stem, then SiLU of c as two nodes: Sigmoid(c) -> s, then Mul(c, s) (or Mul(s, c)).
Graph conv_silu(bool sigmoid_first) {
  Graph graph = conv_stem();
  graph.add_node("Sigmoid", {"c"}, {"s"}, {}, "sigmoid");
  graph.add_node("Mul", sigmoid_first ? std::vector<std::string>{"s", "c"} : std::vector<std::string>{"c", "s"}, {"y"},
                 {}, "mul");
  return graph;
}

TEST_F(FuseActivations, SiluFoldsAndKeepsResults) {
  for (const bool sigmoid_first : {false, true}) {
    Graph graph = conv_silu(sigmoid_first);
    graph.add_output("y");
    Graph fused = graph.clone();
    EXPECT_EQ(tern::fuse_activations(fused), 0u); // a SiLU is not one activation node
    ASSERT_EQ(tern::fuse_silu(fused), 1u);
    EXPECT_EQ(fused.node_count(), 1u);
    EXPECT_EQ(fused.outputs()[0]->name(), "y");
    EXPECT_EQ(fused.value("y").producer(), fused.find_node("conv"));
    EXPECT_EQ(fused.find_node("conv")->attr<std::string>("activation"), "SiLU");
    EXPECT_NO_THROW(fused.validate());
    const Tensor x = random_tensor(Shape{2, 3, 6, 6}, 54, -3.0f, 3.0f);
    EXPECT_LT(tern::test::max_abs_diff(tern::test::run_reference(graph, x), tern::test::run_reference(fused, x)), 1e-5)
        << (sigmoid_first ? "Mul(s, c)" : "Mul(c, s)");
  }
}

TEST_F(FuseActivations, SiluLeavesOtherProductsAlone) {
  // c read by a third node: the pre-activation value is still needed.
  Graph shared = conv_silu(false);
  shared.add_node("Relu", {"c"}, {"r"});
  shared.add_output("y");
  shared.add_output("r");
  EXPECT_EQ(tern::fuse_silu(shared), 0u);
  // The Sigmoid read elsewhere too (a graph output).
  Graph sigmoid_read = conv_silu(false);
  sigmoid_read.add_output("y");
  sigmoid_read.add_output("s");
  EXPECT_EQ(tern::fuse_silu(sigmoid_read), 0u);
  // c times the Sigmoid of something else: squeeze-excitation's scale, not a SiLU.
  Graph other = conv_stem();
  other.add_node("Relu", {"c"}, {"r"});
  other.add_node("Sigmoid", {"r"}, {"s"});
  other.add_node("Mul", {"c", "s"}, {"y"});
  other.add_output("y");
  EXPECT_EQ(tern::fuse_silu(other), 0u);
  // A Conv with an activation already (Relu, then SiLU of that): one post-op only.
  Graph activated = conv_silu(false);
  activated.find_node("conv")->attrs().set("activation", std::string("Relu"));
  activated.add_output("y");
  EXPECT_EQ(tern::fuse_silu(activated), 0u);
  EXPECT_EQ(activated.node_count(), 3u);
}
