#include <tern/graph.hpp>

#include <gtest/gtest.h>

#include "graphs.hpp"

using tern::DataType;
using tern::Graph;
using tern::Shape;

namespace {

/// Expects `fn` to throw tern::Error whose message contains every one of `parts`.
template <class Fn> void expect_error(Fn fn, std::initializer_list<const char*> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected tern::Error";
  } catch (const tern::Error& e) {
    for (const char* part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

} // namespace

TEST(Graph, BuildsValuesWithOneProducerEach) {
  Graph graph = tern::test::relu_chain(3, 4);
  EXPECT_EQ(graph.node_count(), 3u);
  ASSERT_EQ(graph.inputs().size(), 1u);
  EXPECT_EQ(graph.inputs()[0]->name(), "x");
  EXPECT_EQ(graph.value("y").producer()->op_type(), "Relu");
  EXPECT_EQ(graph.value("x").producer(), nullptr);
  EXPECT_EQ(graph.consumers(graph.value("h0")).size(), 1u);
  EXPECT_NO_THROW(graph.validate());
}

TEST(Graph, RejectsASecondProducerOfAValue) {
  Graph graph = tern::test::relu_chain(2, 4);
  expect_error([&] { graph.add_node("Relu", {"x"}, {"h0"}, {}, "again"); }, {"'again'", "'h0'", "one producer"});
  expect_error([&] { graph.add_input("x", DataType::Float32, Shape{1}); }, {"'x'"});
}

TEST(Graph, TopologicalOrderPutsProducersFirst) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 4});
  // Added out of order on purpose: c reads b, which reads a.
  graph.add_node("Add", {"b", "a"}, {"c"}, {}, "c");
  graph.add_node("Relu", {"a"}, {"b"}, {}, "b");
  graph.add_node("Relu", {"x"}, {"a"}, {}, "a");
  graph.add_output("c");
  std::vector<std::string> names;
  for (const tern::Node* node : graph.topological_order()) names.push_back(node->name());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Graph, ValidationRejectsACycleAndNamesANodeOnIt) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 4});
  graph.add_node("Add", {"x", "q"}, {"p"}, {}, "first");
  graph.add_node("Relu", {"p"}, {"q"}, {}, "second");
  graph.add_output("q");
  expect_error([&] { graph.validate(); }, {"cycle", "node '"});
}

TEST(Graph, ValidationRejectsADanglingValue) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 4});
  graph.add_node("Add", {"x", "nobody_makes_this"}, {"y"}, {}, "adder");
  graph.add_output("y");
  expect_error([&] { graph.validate(); }, {"node 'adder' (Add)", "'nobody_makes_this'", "no node produces"});
}

TEST(Graph, ValidationRejectsWrongArity) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 4});
  graph.add_node("Add", {"x"}, {"y"}, {}, "lonely_add");
  graph.add_output("y");
  expect_error([&] { graph.validate(); }, {"node 'lonely_add' (Add)", "1 inputs", "takes 2"});
}

TEST(Graph, ValidationRejectsUnknownAndMistypedAttributes) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 4});
  tern::Attributes unknown;
  unknown.set("colour", std::string("red"));
  graph.add_node("Relu", {"x"}, {"y"}, unknown, "painted");
  graph.add_output("y");
  expect_error([&] { graph.validate(); }, {"node 'painted' (Relu)", "'colour'"});

  Graph typed;
  typed.add_input("x", DataType::Float32, Shape{1, 4});
  tern::Attributes wrong;
  wrong.set("axis", 1.5);
  typed.add_node("Flatten", {"x"}, {"y"}, wrong, "flat");
  typed.add_output("y");
  expect_error([&] { typed.validate(); }, {"node 'flat' (Flatten)", "'axis' must be int", "got float"});
}

TEST(Graph, ValidationRejectsMissingRequiredAttributesAndUnknownOps) {
  Graph concat;
  concat.add_input("x", DataType::Float32, Shape{1, 4});
  concat.add_node("Concat", {"x", "x"}, {"y"}, {}, "joiner");
  concat.add_output("y");
  expect_error([&] { concat.validate(); }, {"node 'joiner' (Concat)", "required attribute 'axis'"});

  Graph unknown;
  unknown.add_input("x", DataType::Float32, Shape{1, 4});
  unknown.add_node("FlyingCarpet", {"x"}, {"y"}, {}, "magic");
  unknown.add_output("y");
  expect_error([&] { unknown.validate(); }, {"node 'magic'", "unknown operator type 'FlyingCarpet'"});
}

TEST(Graph, ValidationRejectsAGraphWithoutOutputs) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 4});
  graph.add_node("Relu", {"x"}, {"y"});
  expect_error([&] { graph.validate(); }, {"no outputs"});
}

TEST(Graph, CloneIsIndependent) {
  Graph graph = tern::test::relu_chain(2, 4);
  graph.add_constant("bias", tern::Tensor::from_floats(Shape{4}, {1, 2, 3, 4}));
  Graph copy = graph.clone();
  copy.add_node("Add", {"y", "bias"}, {"z"}, {}, "extra");
  EXPECT_EQ(graph.node_count(), 2u);
  EXPECT_EQ(copy.node_count(), 3u);
  EXPECT_EQ(graph.find_node("extra"), nullptr);
  EXPECT_NE(&copy.value("x"), &graph.value("x"));
  EXPECT_EQ(copy.value("h0").producer(), copy.topological_order()[0]);
  EXPECT_EQ(copy.value("bias").constant()->to_doubles(), (std::vector<double>{1, 2, 3, 4}));
}

TEST(Graph, InferShapesTypesEveryValue) {
  Graph graph = tern::test::relu_chain(3, 5);
  graph.infer_shapes();
  EXPECT_TRUE(graph.value("y").typed());
  EXPECT_EQ(graph.value("y").shape(), (Shape{Shape::dynamic, 5}));
  EXPECT_EQ(graph.value("y").dtype(), DataType::Float32);
}

TEST(Graph, AbsentOptionalInputBeforeAPresentOneIsValid) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 4});
  graph.add_constant("max", tern::Tensor::from_floats(Shape{}, {6.f}));
  graph.add_node("Clip", {"x", "", "max"}, {"y"}, {}, "clip_max_only");
  graph.add_output("y");
  EXPECT_NO_THROW(graph.validate());
  EXPECT_EQ(graph.find_node("clip_max_only")->input(1), nullptr);
}
