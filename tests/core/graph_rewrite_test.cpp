#include <tern/graph.hpp>

#include <gtest/gtest.h>

#include "graphs.hpp"

using tern::DataType;
using tern::Graph;
using tern::Shape;

TEST(GraphRewrite, InsertAfterRewiresEveryReader) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 4});
  graph.add_node("Relu", {"x"}, {"a"}, {}, "relu");
  graph.add_node("Sigmoid", {"a"}, {"b"}, {}, "left");
  graph.add_node("Add", {"a", "b"}, {"c"}, {}, "right");
  graph.add_output("c");
  graph.add_constant("scale", tern::Tensor::from_floats(Shape{1}, {0.5f}));

  tern::Node& mul = graph.insert_after(graph.value("a"), "Mul", {}, {&graph.value("scale")}, "scaling");
  EXPECT_EQ(mul.input(0)->name(), "a");
  EXPECT_EQ(mul.input(1)->name(), "scale");
  EXPECT_EQ(graph.find_node("left")->input(0), mul.output());
  EXPECT_EQ(graph.find_node("right")->input(0), mul.output());
  EXPECT_EQ(graph.consumers(graph.value("a")), std::vector<tern::Node*>{&mul});
  EXPECT_NO_THROW(graph.validate());
}

TEST(GraphRewrite, InsertAfterAGraphOutputKeepsItsName) {
  Graph graph = tern::test::relu_chain(1, 4);
  tern::Node& identity = graph.insert_after(graph.value("y"), "Identity");
  ASSERT_EQ(graph.outputs().size(), 1u);
  EXPECT_EQ(graph.outputs()[0], identity.output());
  EXPECT_EQ(graph.outputs()[0]->name(), "y"); // users still find their output as "y"
  EXPECT_NE(identity.input(0)->name(), "y");
  EXPECT_EQ(identity.input(0)->producer()->op_type(), "Relu");
  EXPECT_NO_THROW(graph.validate());
}

TEST(GraphRewrite, BypassRemovesANodeAndReconnects) {
  Graph graph = tern::test::relu_chain(3, 4);
  tern::Node* middle = graph.value("h1").producer();
  graph.bypass_node(*middle);
  EXPECT_EQ(graph.node_count(), 2u);
  EXPECT_EQ(graph.value("y").producer()->input(0)->name(), "h0");
  EXPECT_EQ(graph.find_value("h1"), nullptr);
  EXPECT_NO_THROW(graph.validate());
}

TEST(GraphRewrite, BypassOfTheLastNodeKeepsTheOutputName) {
  Graph graph = tern::test::relu_chain(2, 4);
  graph.bypass_node(*graph.value("y").producer());
  EXPECT_EQ(graph.outputs()[0]->name(), "y");
  EXPECT_EQ(graph.outputs()[0]->producer()->input(0)->name(), "x");
}

TEST(GraphRewrite, RemoveNodeRefusesWhileItsOutputIsRead) {
  Graph graph = tern::test::relu_chain(2, 4);
  try {
    graph.remove_node(*graph.value("h0").producer());
    FAIL() << "removing a node whose output is read must throw";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'h0' is still read"), std::string::npos) << e.what();
  }
}

TEST(GraphRewrite, RemoveNodeDropsItsUnreadConstants) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 2});
  graph.add_constant("k", tern::Tensor::from_floats(Shape{2}, {1, 2}));
  graph.add_node("Add", {"x", "k"}, {"unused"}, {}, "dead");
  graph.add_node("Relu", {"x"}, {"y"});
  graph.add_output("y");
  graph.remove_node(*graph.find_node("dead"));
  EXPECT_EQ(graph.find_value("k"), nullptr);
  EXPECT_EQ(graph.find_value("unused"), nullptr);
  EXPECT_NE(graph.find_value("x"), nullptr); // graph inputs stay
}

TEST(GraphRewrite, ReplaceNodeKeepsOutputsAndReaders) {
  Graph graph = tern::test::relu_chain(2, 4);
  tern::Node* first = graph.value("h0").producer();
  graph.replace_node(*first, "Sigmoid", {&graph.value("x")});
  EXPECT_EQ(graph.value("h0").producer()->op_type(), "Sigmoid");
  EXPECT_EQ(graph.value("y").producer()->input(0)->name(), "h0");
  EXPECT_NO_THROW(graph.validate());
}

TEST(GraphRewrite, SetConstantDetachesTheProducer) {
  Graph graph;
  graph.add_constant("k", tern::Tensor::from_floats(Shape{2}, {-1, 2}));
  graph.add_input("x", DataType::Float32, Shape{1, 2});
  graph.add_node("Relu", {"k"}, {"rk"}, {}, "relu_of_constant");
  graph.add_node("Add", {"x", "rk"}, {"y"});
  graph.add_output("y");
  graph.set_constant(graph.value("rk"), tern::Tensor::from_floats(Shape{2}, {0, 2}));
  EXPECT_EQ(graph.find_node("relu_of_constant"), nullptr);
  EXPECT_EQ(graph.find_value("k"), nullptr); // nobody reads it any more
  ASSERT_NE(graph.value("rk").constant(), nullptr);
  EXPECT_NO_THROW(graph.validate());
}

TEST(GraphRewrite, ReplaceUsesMovesReadersAndOutputs) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 2});
  graph.add_node("Relu", {"x"}, {"a"});
  graph.add_node("Sigmoid", {"x"}, {"b"});
  graph.add_node("Identity", {"a"}, {"c"});
  graph.add_output("a");
  graph.add_output("c");
  graph.replace_uses(graph.value("a"), graph.value("b"));
  EXPECT_EQ(graph.outputs()[0]->name(), "b");
  EXPECT_EQ(graph.value("c").producer()->input(0)->name(), "b");
  EXPECT_TRUE(graph.consumers(graph.value("a")).empty());
}
