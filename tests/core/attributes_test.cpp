#include <tern/graph.hpp>

#include <gtest/gtest.h>

using tern::Attributes;

TEST(Attributes, TypedAccessAndDefaults) {
  Attributes attrs;
  attrs.set("group", std::int64_t{2});
  attrs.set("alpha", 0.5);
  attrs.set("mode", std::string("constant"));
  attrs.set("pads", std::vector<std::int64_t>{1, 1, 1, 1});
  attrs.set("scales", std::vector<double>{0.5, 2.0});
  EXPECT_EQ(attrs.get<std::int64_t>("group"), 2);
  EXPECT_EQ(attrs.get<double>("alpha"), 0.5);
  EXPECT_EQ(attrs.get<std::string>("mode"), "constant");
  EXPECT_EQ(attrs.get_or<std::int64_t>("missing", 7), 7);
  EXPECT_EQ(tern::to_string(*attrs.find("pads")), "[1,1,1,1]");
  EXPECT_EQ(tern::type_of(*attrs.find("scales")), tern::AttributeType::Floats);
}

TEST(Attributes, ErrorsNameTheKeyAndType) {
  Attributes attrs;
  attrs.set("group", std::int64_t{2});
  try {
    (void)attrs.get<double>("group");
    FAIL() << "reading an int as a float must throw";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'group' is a int"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)attrs.get<std::int64_t>("absent"), tern::Error);
}

TEST(Attributes, NodesCarryFreeMetadataOutsideTheSchema) {
  tern::Graph graph;
  graph.add_input("x", tern::DataType::Float32, tern::Shape{1, 4});
  tern::Node& relu = graph.add_node("Relu", {"x"}, {"y"});
  graph.add_output("y");
  relu.meta().set("quantization.ptq.precision", std::string("int8"));
  relu.meta().set("quantization.ptq.accumulationprecision", std::string("int32"));
  graph.validate(); // metadata is not an operator attribute: validation accepts it
  const tern::Graph copy = graph.clone();
  EXPECT_EQ(copy.find_node(relu.name())->meta().get<std::string>("quantization.ptq.precision"), "int8");
  EXPECT_TRUE(relu.attrs().empty());
}

TEST(Attributes, NodeAttrFallsBackToTheSchemaDefault) {
  tern::Graph graph;
  graph.add_input("x", tern::DataType::Float32, tern::Shape{1, 4});
  tern::Node& leaky = graph.add_node("LeakyRelu", {"x"}, {"y"});
  EXPECT_NEAR(leaky.attr<double>("alpha"), 0.01, 1e-12); // ONNX's default
  leaky.attrs().set("alpha", 0.2);
  EXPECT_EQ(leaky.attr<double>("alpha"), 0.2);
  EXPECT_THROW((void)leaky.attr<double>("no_such_attribute"), tern::Error);
}
