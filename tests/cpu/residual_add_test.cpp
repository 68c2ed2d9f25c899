// fuse_residual_adds on "cpu": which residual Adds fold into the ConvChannelsLast computing
// one operand (with the activation after them), which stay, and that the folded graph
// computes what the naive "reference" backend computes from the graph as written.
#include "graphs.hpp"
#include "reference_backend.hpp"

#include <tern/recipes.hpp>

#include <gtest/gtest.h>

namespace {

using tern::Attributes;
using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using tern::test::close_to;
using tern::test::count_of;
using Ints = std::vector<std::int64_t>;

const Shape image{2, 8, 9, 9};

/// A float residual block over x [2, 8, 9, 9]: conv a (3x3, Relu after it), conv b (3x3,
/// depthwise when `depthwise`), then Add(b, shortcut) (operands swapped when
/// `shortcut_first`) and Relu -> y. The shortcut is x itself, or with `projected` a 1x1
/// Conv of x ("s"), as in a downsampling block.
Graph residual_block(bool shortcut_first, bool projected, bool depthwise = false) {
  Graph graph;
  graph.add_input("x", DataType::Float32, image);
  std::uint32_t seed = 10;
  const auto conv = [&](const char* in, const char* out, std::int64_t kernel, std::int64_t group) {
    const std::string w = std::string(out) + "_w", b = std::string(out) + "_b";
    graph.add_constant(w, tern::test::random_tensor(Shape{8, 8 / group, kernel, kernel}, seed++, -0.3f, 0.3f));
    graph.add_constant(b, tern::test::random_tensor(Shape{8}, seed++));
    const Ints pads(4, kernel / 2);
    graph.add_node("Conv", {in, w, b}, {out}, tern::test::attributes({{"pads", pads}, {"group", group}}), out);
  };
  conv("x", "a", 3, 1);
  graph.add_node("Relu", {"a"}, {"a_relu"});
  conv("a_relu", "b", 3, depthwise ? 8 : 1);
  if (projected) conv("x", "s", 1, 1);
  const std::string shortcut = projected ? "s" : "x";
  graph.add_node("Add",
                 shortcut_first ? std::vector<std::string>{shortcut, "b"} : std::vector<std::string>{"b", shortcut},
                 {"sum"});
  graph.add_node("Relu", {"sum"}, {"y"});
  graph.add_output("y");
  return graph;
}

/// What prepare_for_inference does to a float graph, up to the residual fusion.
std::size_t fold_residuals(Graph& graph) {
  tern::fuse_activations(graph);
  tern::channels_last_ops(graph, {"cpu"});
  const std::size_t folded = tern::fuse_residual_adds(graph, {"cpu"});
  tern::fuse_activations(graph);
  return folded;
}

/// `folded` on "cpu" against `written` on the naive reference backend.
void expect_same_results(const Graph& written, const Graph& folded) {
  tern::test::register_reference_backend();
  const Tensor x = tern::test::random_tensor(image, 7);
  const Tensor expected = tern::test::run_reference(written, x);
  tern::SequentialScheduler cpu(folded, {"cpu"});
  EXPECT_TRUE(close_to(cpu.forward({x})[0], expected));
}

TEST(FloatResidual, TheAddAndItsReluFoldIntoTheConv) {
  // oneDNN takes the residual as a sum into Y for its brgconv kernels (the 3x3 on AVX-512)
  // and reads it in place for the others (the depthwise and 1x1 ones, every AVX2 kernel).
  for (const bool shortcut_first : {false, true})
    for (const bool projected : {false, true})
      for (const bool depthwise : {false, true}) {
        SCOPED_TRACE(std::string(shortcut_first ? "Add(shortcut, conv)" : "Add(conv, shortcut)") +
                     (projected ? ", 1x1 projection" : ", identity shortcut") + (depthwise ? ", depthwise" : ""));
        const Graph written = residual_block(shortcut_first, projected, depthwise);
        Graph folded = written.clone();
        EXPECT_EQ(fold_residuals(folded), 1U);
        EXPECT_EQ(count_of(folded, "Add"), 0U);
        EXPECT_EQ(count_of(folded, "Relu"), 0U);
        // The projection is the other operand: b (the last Conv of the block) or s takes it.
        const tern::Node* b = folded.find_node("b");
        const tern::Node* s = folded.find_node("s");
        const tern::Node* fused = b->inputs().size() == 4 ? b : s;
        ASSERT_NE(fused, nullptr);
        ASSERT_EQ(fused->inputs().size(), 4U);
        EXPECT_EQ(fused->op_type(), "ConvChannelsLast");
        EXPECT_EQ(fused->attr<std::string>("activation"), "Relu");
        EXPECT_EQ(folded.outputs()[0]->name(), "y"); // the graph output keeps its name
        expect_same_results(written, folded);
      }
}

TEST(FloatResidual, AddsThatAreNotAResidualStay) {
  // A broadcast operand ([1, 8, 1, 1]): the Conv's output has another shape.
  {
    Graph graph = residual_block(false, false);
    graph.add_constant("offset", tern::test::random_tensor(Shape{1, 8, 1, 1}, 30));
    graph.replace_node(*graph.value("sum").producer(), "Add", {&graph.value("b"), &graph.value("offset")});
    const Graph written = graph.clone();
    EXPECT_EQ(fold_residuals(graph), 0U);
    EXPECT_EQ(count_of(graph, "Add"), 1U);
    expect_same_results(written, graph);
  }
  // The Conv's output is read elsewhere too (a second graph output).
  {
    Graph graph = residual_block(false, false);
    graph.add_output("b");
    Graph folded = graph.clone();
    EXPECT_EQ(fold_residuals(folded), 0U);
    EXPECT_EQ(count_of(folded, "Add"), 1U);
  }
  // Relu(Conv) + x: the Conv's activation comes before the sum, so the sum cannot move in.
  {
    Graph graph = residual_block(false, false);
    graph.add_node("Relu", {"b"}, {"b_relu"});
    graph.replace_node(*graph.value("sum").producer(), "Add", {&graph.value("b_relu"), &graph.value("x")});
    const Graph written = graph.clone();
    EXPECT_EQ(fold_residuals(graph), 0U);
    EXPECT_EQ(count_of(graph, "Add"), 1U);
    expect_same_results(written, graph);
  }
}

TEST(FloatResidual, ShapeInferenceChecksTheResidual) {
  const auto conv_with = [](const Shape& z, DataType x_type) {
    Graph graph;
    const bool integer = x_type == DataType::Int8;
    graph.add_input("x", x_type, Shape{1, 5, 5, 4});
    graph.add_input("w", integer ? DataType::Int8 : DataType::Float32, Shape{6, 4, 3, 3});
    graph.add_input("z", DataType::Float32, z);
    graph.add_node("ConvChannelsLast", {"x", "w", "", "z"}, {"y"});
    graph.add_output("y");
    graph.infer_shapes();
    return graph.value("y").shape();
  };
  EXPECT_EQ(conv_with(Shape{1, 3, 3, 6}, DataType::Float32), (Shape{1, 3, 3, 6}));
  EXPECT_EQ(conv_with(Shape{Shape::dynamic, 3, 3, 6}, DataType::Float32), (Shape{1, 3, 3, 6}));
  try {
    conv_with(Shape{1, 3, 3, 1}, DataType::Float32);
    FAIL() << "a residual of another shape was accepted";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find("must have the output's shape [1,3,3,6]"), std::string::npos) << e.what();
  }
  try {
    conv_with(Shape{1, 3, 3, 6}, DataType::Int8);
    FAIL() << "an integer Conv with a residual was accepted";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find("takes no residual input Z"), std::string::npos) << e.what();
  }
}

} // namespace
