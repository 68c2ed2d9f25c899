#include <tern/recipes.hpp>
#include <tern/scheduler.hpp>

#include <gtest/gtest.h>

#include <limits>

#include "graphs.hpp"
#include "reference_backend.hpp"

using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using tern::test::count_of;
using tern::test::random_tensor;

namespace {

/// x[N,3,6,6] -> Conv(3->4, 3x3, pad 1) [-> bias] -> BN -> Relu -> y
Graph conv_bn(bool with_bias) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 3, 6, 6});
  graph.add_constant("w", random_tensor(Shape{4, 3, 3, 3}, 11));
  std::vector<std::string> conv_inputs{"x", "w"};
  if (with_bias) {
    graph.add_constant("b", random_tensor(Shape{4}, 12));
    conv_inputs.push_back("b");
  }
  graph.add_constant("gamma", random_tensor(Shape{4}, 13, 0.5f, 2.0f));
  graph.add_constant("beta", random_tensor(Shape{4}, 14));
  graph.add_constant("mean", random_tensor(Shape{4}, 15));
  graph.add_constant("var", random_tensor(Shape{4}, 16, 0.1f, 3.0f));
  tern::Attributes conv;
  conv.set("pads", std::vector<std::int64_t>{1, 1, 1, 1});
  graph.add_node("Conv", conv_inputs, {"c"}, conv, "conv");
  graph.add_node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"n"}, {}, "bn");
  graph.add_node("Relu", {"n"}, {"y"});
  graph.add_output("y");
  return graph;
}

} // namespace

class Recipes : public ::testing::Test {
protected:
  void SetUp() override { tern::test::register_reference_backend(); }
};

TEST_F(Recipes, FoldBatchNormIntoConvKeepsResults) {
  for (const bool with_bias : {false, true}) {
    const Graph original = conv_bn(with_bias);
    Graph folded = original.clone();
    EXPECT_EQ(tern::fold_batchnorm(folded), 1u);
    EXPECT_EQ(count_of(folded, "BatchNormalization"), 0u);
    EXPECT_EQ(folded.find_node("conv")->inputs().size(), 3u); // it gained a bias
    EXPECT_NO_THROW(folded.validate());
    const Tensor x = random_tensor(Shape{2, 3, 6, 6}, 21);
    EXPECT_LT(tern::test::max_abs_diff(tern::test::run_reference(original, x), tern::test::run_reference(folded, x)),
              1e-4);
  }
}

TEST_F(Recipes, FoldBatchNormIntoGemmBothLayouts) {
  for (const std::int64_t trans_b : {0, 1}) {
    Graph graph;
    graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 5});
    graph.add_constant("B", random_tensor(trans_b ? Shape{3, 5} : Shape{5, 3}, 31));
    graph.add_constant("C", random_tensor(Shape{3}, 32));
    graph.add_constant("gamma", random_tensor(Shape{3}, 33, 0.5f, 2.0f));
    graph.add_constant("beta", random_tensor(Shape{3}, 34));
    graph.add_constant("mean", random_tensor(Shape{3}, 35));
    graph.add_constant("var", random_tensor(Shape{3}, 36, 0.1f, 3.0f));
    tern::Attributes gemm;
    gemm.set("transB", trans_b);
    gemm.set("beta", 0.5);
    graph.add_node("Gemm", {"x", "B", "C"}, {"g"}, gemm, "fc");
    graph.add_node("BatchNormalization", {"g", "gamma", "beta", "mean", "var"}, {"y"}, {}, "bn");
    graph.add_output("y");
    Graph folded = graph.clone();
    ASSERT_EQ(tern::fold_batchnorm(folded), 1u);
    EXPECT_EQ(folded.outputs()[0]->name(), "y");
    const Tensor x = random_tensor(Shape{4, 5}, 37);
    EXPECT_LT(tern::test::max_abs_diff(tern::test::run_reference(graph, x), tern::test::run_reference(folded, x)), 1e-4)
        << "transB=" << trans_b;
  }
}

TEST_F(Recipes, FoldBatchNormLeavesASharedConvOutputAlone) {
  Graph graph = conv_bn(true);
  graph.add_output("c"); // the conv output is also a graph output: folding would change it
  EXPECT_EQ(tern::fold_batchnorm(graph), 0u);
  EXPECT_EQ(count_of(graph, "BatchNormalization"), 1u);
}

/// x[N,5] -> MatMul(W[5,3]) -> Add(bias) -> y, the bias on either side, as [3] or [1,3].
Graph matmul_add(bool bias_first, const Shape& bias_shape) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 5});
  graph.add_constant("W", random_tensor(Shape{5, 3}, 51));
  graph.add_constant("bias", random_tensor(bias_shape, 52));
  graph.add_node("MatMul", {"x", "W"}, {"p"}, {}, "fc");
  graph.add_node("Add", bias_first ? std::vector<std::string>{"bias", "p"} : std::vector<std::string>{"p", "bias"},
                 {"y"}, {}, "fc_bias");
  graph.add_output("y");
  return graph;
}

TEST_F(Recipes, MatMulAndBiasAddBecomeOneGemm) {
  for (const bool bias_first : {false, true})
    for (const Shape& bias_shape : {Shape{3}, Shape{1, 3}}) {
      const Graph original = matmul_add(bias_first, bias_shape);
      Graph turned = original.clone();
      turned.find_node("fc")->meta().set("weights", "int4");
      turned.find_node("fc_bias")->meta().set("precision", "int32"); // describes y, the network output
      ASSERT_EQ(tern::matmul_as_gemm(turned), 1u);
      EXPECT_EQ(turned.find_node("fc")->meta().get<std::string>("weights"), "int4");
      EXPECT_EQ(turned.find_node("fc")->meta().get<std::string>("precision"), "int32");
      EXPECT_EQ(count_of(turned, "Add"), 0u);
      ASSERT_NE(turned.find_node("fc"), nullptr);
      EXPECT_EQ(turned.find_node("fc")->op_type(), "Gemm");
      EXPECT_EQ(turned.find_node("fc")->inputs().size(), 3u);
      EXPECT_EQ(turned.outputs()[0]->name(), "y");
      // y = x·W + bias by naive loops (the reference backend has no MatMul to run the original).
      const Tensor x = random_tensor(Shape{4, 5}, 53);
      const std::vector<double> xs = x.to_doubles(), w = original.value("W").constant()->to_doubles(),
                                bias = original.value("bias").constant()->to_doubles();
      std::vector<float> expected(12);
      for (std::size_t row = 0; row < 4; ++row)
        for (std::size_t column = 0; column < 3; ++column) {
          double sum = bias[column];
          for (std::size_t k = 0; k < 5; ++k) sum += xs[row * 5 + k] * w[k * 3 + column];
          expected[row * 3 + column] = static_cast<float>(sum);
        }
      EXPECT_LT(
          tern::test::max_abs_diff(Tensor::from_floats(Shape{4, 3}, expected), tern::test::run_reference(turned, x)),
          1e-5);
    }
}

TEST_F(Recipes, MatMulAsGemmLeavesOtherAddsAndRanksAlone) {
  // A bias that broadcasts over rows ([4,1]) is no Gemm bias: the MatMul turns, the Add stays.
  Graph column = matmul_add(false, Shape{4, 1});
  EXPECT_EQ(tern::matmul_as_gemm(column), 1u);
  EXPECT_EQ(count_of(column, "Add"), 1u);
  EXPECT_EQ(column.find_node("fc")->inputs().size(), 2u);
  // A rank-3 input is a batched MatMul, which Gemm cannot express.
  Graph batched;
  batched.add_input("x", DataType::Float32, Shape{2, 4, 5});
  batched.add_constant("W", random_tensor(Shape{5, 3}, 54));
  batched.add_node("MatMul", {"x", "W"}, {"y"});
  batched.add_output("y");
  EXPECT_EQ(tern::matmul_as_gemm(batched), 0u);
}

TEST_F(Recipes, RemoveFlattenBeforeGemmKeepsResults) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 2, 3, 3});
  graph.add_constant("B", random_tensor(Shape{18, 4}, 41));
  graph.add_node("Relu", {"x"}, {"r"});
  graph.add_node("Flatten", {"r"}, {"f"}, {}, "flatten");
  graph.add_node("Gemm", {"f", "B"}, {"y"});
  graph.add_output("y");
  Graph removed = graph.clone();
  EXPECT_EQ(tern::remove_flatten(removed), 1u);
  EXPECT_EQ(removed.find_node("flatten"), nullptr);
  removed.infer_shapes();
  EXPECT_EQ(removed.value("y").shape(), (Shape{Shape::dynamic, 4}));
  const Tensor x = random_tensor(Shape{3, 2, 3, 3}, 42);
  EXPECT_LT(tern::test::max_abs_diff(tern::test::run_reference(graph, x), tern::test::run_reference(removed, x)), 1e-5);
}

TEST_F(Recipes, RemoveFlattenKeepsFlattensThatMatter) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 2, 3});
  graph.add_node("Flatten", {"x"}, {"f"}, {}, "to_sigmoid");
  graph.add_node("Sigmoid", {"f"}, {"s"});
  tern::Attributes axis2;
  axis2.set("axis", std::int64_t{2});
  graph.add_node("Flatten", {"s"}, {"y"}, axis2, "is_output");
  graph.add_output("y");
  EXPECT_EQ(tern::remove_flatten(graph), 0u);
  EXPECT_NE(graph.find_node("to_sigmoid"), nullptr);
  EXPECT_NE(graph.find_node("is_output"), nullptr);
}

TEST_F(Recipes, RemoveFlattenDropsANoOpFlatten) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 6});
  graph.add_node("Flatten", {"x"}, {"f"}, {}, "noop");
  graph.add_node("Relu", {"f"}, {"y"});
  graph.add_output("y");
  EXPECT_EQ(tern::remove_flatten(graph), 1u);
  EXPECT_EQ(graph.value("y").producer()->input(0)->name(), "x");
}

TEST_F(Recipes, FoldConstantsFoldsWholeConstantChains) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 3});
  graph.add_constant("a", Tensor::from_floats(Shape{3}, {-1, 2, -3}));
  graph.add_constant("b", Tensor::from_floats(Shape{3}, {10, 20, 30}));
  graph.add_node("Relu", {"a"}, {"ra"}, {}, "relu_a");
  graph.add_node("Mul", {"ra", "b"}, {"k"}, {}, "scale_b");
  graph.add_node("Add", {"x", "k"}, {"y"}, {}, "uses_input");
  graph.add_output("y");
  EXPECT_EQ(tern::fold_constants(graph, {"reference"}), 2u);
  EXPECT_EQ(graph.node_count(), 1u);
  ASSERT_NE(graph.value("k").constant(), nullptr);
  EXPECT_EQ(graph.value("k").constant()->to_doubles(), (std::vector<double>{0, 40, 0}));
  EXPECT_EQ(graph.find_value("a"), nullptr);
  const Tensor y = tern::test::run_reference(graph, Tensor::from_floats(Shape{1, 3}, {1, 1, 1}));
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{1, 41, 1}));
}

TEST_F(Recipes, FoldConstantsSkipsNodesNoBackendCanRun) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 3});
  graph.add_constant("a", Tensor::from_floats(Shape{1, 3}, {1, 2, 3}));
  graph.add_node("Softmax", {"a"}, {"s"}, {}, "softmax_of_constant");
  graph.add_node("Add", {"x", "s"}, {"y"});
  graph.add_output("y");
  EXPECT_EQ(tern::fold_constants(graph, {"reference"}), 0u);
  EXPECT_NE(graph.find_node("softmax_of_constant"), nullptr);
}

namespace {

Tensor int64s(Shape shape, std::vector<std::int64_t> values) {
  return Tensor::from<std::int64_t>(std::move(shape), DataType::Int64, values);
}

std::vector<std::int64_t> constant_of(const Graph& graph, const std::string& name) {
  const tern::Value* value = graph.find_value(name);
  if (value == nullptr || value->constant() == nullptr) return {-99};
  return value->constant()->to_int64s();
}

} // namespace

TEST_F(Recipes, FoldShapesFoldsWhatIsStaticAndKeepsADynamicBatch) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 3, 4, 5});
  graph.add_constant("one", int64s(Shape{1}, {1}));
  graph.add_constant("zero", int64s(Shape{}, {0}));
  graph.add_constant("from2", int64s(Shape{1}, {2}));
  graph.add_constant("to_end", int64s(Shape{1}, {std::numeric_limits<std::int64_t>::max()}));
  graph.add_node("Shape", {"x"}, {"dims"}, {}, "shape");
  graph.add_node("Gather", {"dims", "one"}, {"channels"}, {}, "pick_channels");
  graph.add_node("Gather", {"dims", "zero"}, {"batch"}, {}, "pick_batch");
  graph.add_node("Slice", {"dims", "from2", "to_end"}, {"spatial"}, {}, "pick_spatial");
  tern::Attributes from1;
  from1.set("start", std::int64_t{1});
  graph.add_node("Shape", {"x"}, {"trailing"}, from1, "shape_from_1");
  graph.add_node("Size", {"x"}, {"count"}, {}, "size");
  for (const char* output : {"channels", "batch", "spatial", "trailing", "count"}) graph.add_output(output);

  EXPECT_EQ(tern::fold_shapes(graph, {"reference"}), 3u);
  EXPECT_EQ(constant_of(graph, "channels"), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(graph.value("channels").shape(), Shape{1});
  EXPECT_EQ(constant_of(graph, "spatial"), (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(constant_of(graph, "trailing"), (std::vector<std::int64_t>{3, 4, 5}));
  // The batch (and the element count) are known only at run time.
  EXPECT_NE(graph.find_node("pick_batch"), nullptr);
  EXPECT_NE(graph.find_node("shape"), nullptr);
  EXPECT_NE(graph.find_node("size"), nullptr);
  EXPECT_EQ(graph.find_node("pick_channels"), nullptr);
  EXPECT_EQ(graph.find_node("shape_from_1"), nullptr);
}

TEST_F(Recipes, FoldShapesOfAStaticInputLeavesNoShapeNode) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 3, 4});
  graph.add_constant("last", int64s(Shape{}, {-1}));
  graph.add_node("Shape", {"x"}, {"dims"}, {}, "shape");
  graph.add_node("Gather", {"dims", "last"}, {"width"}, {}, "pick_width");
  graph.add_node("Size", {"x"}, {"count"}, {}, "size");
  graph.add_output("width");
  graph.add_output("count");
  EXPECT_EQ(tern::fold_shapes(graph, {"reference"}), 2u);
  // The Gather now reads a constant: fold_constants' work; the Shape itself is one.
  EXPECT_EQ(constant_of(graph, "dims"), (std::vector<std::int64_t>{2, 3, 4}));
  EXPECT_EQ(constant_of(graph, "count"), (std::vector<std::int64_t>{24}));
  EXPECT_EQ(count_of(graph, "Shape") + count_of(graph, "Size"), 0u);
  EXPECT_EQ(graph.node_count(), 1u);
}
