// The recipes that give the PTQ the forms it quantizes, run on "cpu" against naive loops
// written here: fuse_layer_norm (the op-by-op layer normalisation PyTorch writes below
// opset 17), batchnorm_as_conv (a BatchNormalization no Conv precedes) and
// mean_as_global_pool (ReduceMean over the spatial axes).
#include <tern/recipes.hpp>
#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include "graphs.hpp"

#include <algorithm>
#include <cmath>

namespace {

using tern::Attributes;
using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using tern::test::count_of;
using Ints = std::vector<std::int64_t>;

Tensor run(const Graph& graph, const Tensor& x) { return tern::SequentialScheduler(graph, {"cpu"}).forward({x})[0]; }

void expect_near(const Tensor& actual, const std::vector<double>& expected, double tolerance) {
  ASSERT_EQ(static_cast<std::size_t>(actual.numel()), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual.data<float>()[i], expected[i], tolerance) << "element " << i;
}

Attributes axes(Ints values, std::int64_t keepdims = 1) {
  Attributes attrs;
  attrs.set("axes", std::move(values));
  attrs.set("keepdims", keepdims);
  return attrs;
}

/// x[2, 3, 4] normalised over `axes` (PyTorch's op-by-op form), times gamma[4] plus beta[4].
Graph decomposed_layer_norm(const Ints& mean_axes) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 3, 4});
  graph.add_constant("two", Tensor::from_floats(Shape{}, {2.0f}));
  graph.add_constant("eps", Tensor::from_floats(Shape{}, {1e-5f}));
  graph.add_constant("gamma", Tensor::from_floats(Shape{4}, {0.5f, -1.0f, 2.0f, 1.5f}));
  graph.add_constant("beta", Tensor::from_floats(Shape{4}, {0.1f, 0.2f, -0.3f, 0.0f}));
  graph.add_node("ReduceMean", {"x"}, {"mean"}, axes(mean_axes));
  graph.add_node("Sub", {"x", "mean"}, {"centred"});
  graph.add_node("Pow", {"centred", "two"}, {"square"});
  graph.add_node("ReduceMean", {"square"}, {"variance"}, axes(mean_axes));
  graph.add_node("Add", {"variance", "eps"}, {"shifted"});
  graph.add_node("Sqrt", {"shifted"}, {"deviation"});
  graph.add_node("Div", {"centred", "deviation"}, {"normalised"});
  graph.add_node("Mul", {"normalised", "gamma"}, {"scaled"});
  graph.add_node("Add", {"scaled", "beta"}, {"y"}, {}, "layer_norm");
  graph.add_output("y");
  graph.infer_shapes();
  return graph;
}

TEST(CpuCanonicalForms, OpByOpLayerNormBecomesOneNodeWithTheSameResults) {
  Graph graph = decomposed_layer_norm({-1});
  EXPECT_EQ(tern::fuse_layer_norm(graph), 1u);
  EXPECT_EQ(graph.nodes().size(), 1u);
  EXPECT_EQ(graph.find_node("layer_norm")->op_type(), "LayerNormalization");
  const Tensor x = tern::test::random_tensor({2, 3, 4}, 71, -2.0f, 3.0f);
  const float gamma[] = {0.5f, -1.0f, 2.0f, 1.5f}, beta[] = {0.1f, 0.2f, -0.3f, 0.0f};
  std::vector<double> expected;
  for (int row = 0; row < 6; ++row) {
    const float* v = x.data<float>() + row * 4;
    double mean = 0, variance = 0;
    for (int i = 0; i < 4; ++i) mean += v[i] / 4.0;
    for (int i = 0; i < 4; ++i) variance += (v[i] - mean) * (v[i] - mean) / 4.0;
    for (int i = 0; i < 4; ++i) expected.push_back((v[i] - mean) / std::sqrt(variance + 1e-5) * gamma[i] + beta[i]);
  }
  expect_near(run(graph, x), expected, 1e-5);
}

TEST(CpuCanonicalForms, LayerNormOverALeadingAxisIsLeftAlone) {
  Graph graph = decomposed_layer_norm({1});
  EXPECT_EQ(tern::fuse_layer_norm(graph), 0u);
  EXPECT_EQ(count_of(graph, "LayerNormalization"), 0u);
}

TEST(CpuCanonicalForms, LoneBatchNormBecomesADepthwiseConvWithTheSameResults) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 3, 2, 2});
  graph.add_constant("scale", Tensor::from_floats(Shape{3}, {1.0f, 2.0f, -0.5f}));
  graph.add_constant("bias", Tensor::from_floats(Shape{3}, {0.0f, 1.0f, 0.25f}));
  graph.add_constant("mean", Tensor::from_floats(Shape{3}, {0.5f, -1.0f, 0.0f}));
  graph.add_constant("var", Tensor::from_floats(Shape{3}, {1.0f, 4.0f, 0.25f}));
  graph.add_node("Relu", {"x"}, {"r"});
  graph.add_node("BatchNormalization", {"r", "scale", "bias", "mean", "var"}, {"y"}, {}, "bn");
  graph.add_output("y");
  graph.infer_shapes();
  EXPECT_EQ(tern::batchnorm_as_conv(graph), 1u);
  EXPECT_EQ(graph.find_node("bn")->op_type(), "Conv");
  EXPECT_EQ(graph.find_node("bn")->attr<std::int64_t>("group"), 3);
  const Tensor x = tern::test::random_tensor({2, 3, 2, 2}, 72, -1.0f, 2.0f);
  const double scale[] = {1, 2, -0.5}, bias[] = {0, 1, 0.25}, mean[] = {0.5, -1, 0}, var[] = {1, 4, 0.25};
  std::vector<double> expected;
  for (int i = 0; i < 24; ++i) {
    const int c = (i / 4) % 3;
    const double r = std::max(0.0f, x.data<float>()[i]);
    expected.push_back((r - mean[c]) / std::sqrt(var[c] + 1e-5) * scale[c] + bias[c]);
  }
  expect_near(run(graph, x), expected, 1e-5);
}

TEST(CpuCanonicalForms, SpatialMeanBecomesGlobalAveragePoolKeepingTheOutputShape) {
  for (const std::int64_t keepdims : {1, 0}) {
    Graph graph;
    graph.add_input("x", DataType::Float32, Shape{2, 3, 4, 5});
    graph.add_node("ReduceMean", {"x"}, {"y"}, axes({-1, 2}, keepdims), "mean");
    graph.add_output("y");
    graph.infer_shapes();
    const Shape shape = graph.find_value("y")->shape();
    EXPECT_EQ(tern::mean_as_global_pool(graph), 1u);
    EXPECT_EQ(graph.find_node("mean")->op_type(), "GlobalAveragePool");
    EXPECT_EQ(graph.find_value("y")->shape(), shape) << keepdims;
    const Tensor x = tern::test::random_tensor({2, 3, 4, 5}, 73);
    std::vector<double> expected(6, 0.0);
    for (int i = 0; i < 120; ++i) expected[static_cast<std::size_t>(i / 20)] += x.data<float>()[i] / 20.0;
    expect_near(run(graph, x), expected, 1e-6);
  }
  // A mean over channels is no pooling.
  Graph channels;
  channels.add_input("x", DataType::Float32, Shape{2, 3, 4, 5});
  channels.add_node("ReduceMean", {"x"}, {"y"}, axes({1}));
  channels.add_output("y");
  channels.infer_shapes();
  EXPECT_EQ(tern::mean_as_global_pool(channels), 0u);
}

} // namespace
