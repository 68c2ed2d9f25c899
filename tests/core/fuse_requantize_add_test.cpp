// The RequantizeAdd schema and the fuse_requantize_add recipe: which integer residual Adds
// become one node (with what attributes), and which must stay four.
#include <tern/recipes.hpp>

#include <gtest/gtest.h>

#include "schema_testing.hpp"

#include <limits>

using tern::Attributes;
using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::test::attrs;
using tern::test::expect_inference_error;
using Ints = std::vector<std::int64_t>;

namespace {

constexpr std::int64_t N = Shape::dynamic;
constexpr std::int64_t int32_lo = std::numeric_limits<std::int32_t>::min();
constexpr std::int64_t int32_hi = std::numeric_limits<std::int32_t>::max();

Attributes requantize(std::vector<double> scale, std::int64_t lo, std::int64_t hi, const char* to,
                      std::int64_t axis = 1) {
  return attrs({{"scale", std::move(scale)}, {"lo", lo}, {"hi", hi}, {"to", std::string(to)}, {"axis", axis}});
}

/// The residual Add cast_to_integer writes: a (int8) and b (uint8) [N, 3, 4, 4] lifted to
/// int32 terms, added, requantized to uint8 as "y" (a graph output).
struct Residual {
  std::vector<double> a_scale{1048576.0}, b_scale{2097152.0, 1.0, 3.0};
  std::int64_t a_axis = 1, b_axis = 1;
  Shape b_shape{N, 3, 4, 4};

  Graph graph() const {
    Graph graph;
    graph.add_input("a", DataType::Int8, Shape{N, 3, 4, 4});
    graph.add_input("b", DataType::UInt8, b_shape);
    graph.add_node("Requantize", {"a"}, {"ta"}, requantize(a_scale, int32_lo, int32_hi, "int32", a_axis), "lift_a");
    graph.add_node("Requantize", {"b"}, {"tb"}, requantize(b_scale, int32_lo, int32_hi, "int32", b_axis), "lift_b");
    graph.add_node("Add", {"ta", "tb"}, {"sum"}, {}, "add");
    graph.add_node("Requantize", {"sum"}, {"y"}, requantize({1.0 / 4194304.0}, 0, 255, "uint8"), "out");
    graph.add_output("y");
    return graph;
  }
};

} // namespace

TEST(FuseRequantizeAdd, FoldsTheResidualAddIntoOneNode) {
  Graph graph = Residual{}.graph();
  EXPECT_EQ(tern::fuse_requantize_add(graph), 1u);
  ASSERT_EQ(graph.node_count(), 1u);
  const tern::Node& fused = *graph.nodes().at(0);
  EXPECT_EQ(fused.op_type(), "RequantizeAdd");
  EXPECT_EQ(fused.input(0)->name(), "a");
  EXPECT_EQ(fused.input(1)->name(), "b");
  EXPECT_EQ(fused.attr<std::vector<double>>("a_scale"), (std::vector<double>{1048576.0}));
  EXPECT_EQ(fused.attr<std::vector<double>>("b_scale"), (std::vector<double>{2097152.0, 1.0, 3.0}));
  EXPECT_EQ(fused.attr<std::vector<double>>("scale"), (std::vector<double>{1.0 / 4194304.0}));
  EXPECT_EQ(fused.attr<std::int64_t>("axis"), 1);
  EXPECT_EQ(fused.attr<std::int64_t>("lo"), 0);
  EXPECT_EQ(fused.attr<std::int64_t>("hi"), 255);
  EXPECT_EQ(fused.attr<std::string>("to"), "uint8");
  // The graph output keeps its name and type.
  EXPECT_EQ(graph.outputs().at(0)->name(), "y");
  EXPECT_EQ(graph.outputs().at(0)->dtype(), DataType::UInt8);
  EXPECT_EQ(graph.outputs().at(0)->shape(), (Shape{N, 3, 4, 4}));
  graph.validate();
}

TEST(FuseRequantizeAdd, LeavesWhatOneNodeWouldComputeDifferently) {
  // The Add broadcasts b over a.
  Residual broadcast;
  broadcast.b_shape = Shape{N, 3, 1, 1};
  Graph graph = broadcast.graph();
  EXPECT_EQ(tern::fuse_requantize_add(graph), 0u);

  // Per-channel scales along different axes.
  Residual axes;
  axes.a_scale = {1.0, 2.0, 3.0, 4.0};
  axes.a_axis = 2;
  graph = axes.graph();
  EXPECT_EQ(tern::fuse_requantize_add(graph), 0u);

  // Terms that could overflow int32 together (the int32 Add would wrap).
  Residual large;
  large.a_scale = {5000000.0};
  large.b_scale = {4000000.0};
  graph = large.graph();
  EXPECT_EQ(tern::fuse_requantize_add(graph), 0u);
  // ... and terms whose exact sum stays 64 below int32's top, but whose float32 products
  // could round past it (the kernel's arithmetic).
  large.a_scale = large.b_scale = {(static_cast<double>(int32_hi) - 64.0) / (2.0 * 255.0)};
  graph = large.graph();
  EXPECT_EQ(tern::fuse_requantize_add(graph), 0u);

  // A term or the sum read elsewhere too, or a graph output.
  for (const char* shared : {"ta", "sum"}) {
    graph = Residual{}.graph();
    graph.add_output(shared);
    EXPECT_EQ(tern::fuse_requantize_add(graph), 0u) << shared;
  }
  graph = Residual{}.graph();
  graph.add_node("Requantize", {"sum"}, {"y2"}, requantize({0.5}, -128, 127, "int8"), "out2");
  graph.add_output("y2");
  EXPECT_EQ(tern::fuse_requantize_add(graph), 0u);

  // A term that does not clamp at int32's bounds.
  graph = Residual{}.graph();
  graph.find_node("lift_a")->attrs().set("hi", std::int64_t{1000000});
  EXPECT_EQ(tern::fuse_requantize_add(graph), 0u);
  EXPECT_EQ(graph.node_count(), 4u);
}

TEST(RequantizeAddSchema, OutputTypeShapeAndErrors) {
  const auto one_node = [](Shape b, Attributes a) {
    Graph graph;
    graph.add_input("a", DataType::Int8, Shape{N, 3, 4});
    graph.add_input("b", DataType::UInt8, std::move(b));
    graph.add_node("RequantizeAdd", {"a", "b"}, {"y"}, std::move(a), "n");
    graph.add_output("y");
    return graph;
  };
  const auto fused = [](std::vector<double> a_scale, const char* to) {
    Attributes a = requantize({0.5}, -128, 127, to);
    a.set("a_scale", std::move(a_scale));
    a.set("b_scale", std::vector<double>{2.0});
    return a;
  };
  Graph graph = one_node(Shape{2, 3, N}, fused({1.0, 2.0, 3.0}, "int8"));
  EXPECT_EQ(tern::test::inferred(graph), (Ints{2, 3, 4}));
  EXPECT_EQ(graph.value("y").dtype(), DataType::Int8);

  Graph broadcast = one_node(Shape{N, 3, 1}, fused({1.0}, "int8"));
  expect_inference_error(broadcast, {"node 'n' (RequantizeAdd)", "same shape"});
  Graph scales = one_node(Shape{N, 3, 4}, fused({1.0, 2.0}, "int8"));
  expect_inference_error(scales, {"'a_scale' has 2 values; expected 1 or 3"});
  Graph wide = one_node(Shape{N, 3, 4}, fused({1.0}, "int32"));
  expect_inference_error(wide, {"requantizes to int8 or uint8"});
}
