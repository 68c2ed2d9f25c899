// The scheduler reuses a node's shape inference while its input shapes stay the same, but
// never when inference read run-time data (a Reshape target computed or fed at run time).
#include <tern/tern.hpp>

#include <gtest/gtest.h>

TEST(SchedulerCache, ReshapeToARunTimeShapeIsInferredOnEveryForward) {
  tern::Graph graph;
  graph.add_input("x", tern::DataType::Float32, tern::Shape{1, 6});
  graph.add_input("shape", tern::DataType::Int64, tern::Shape{2});
  graph.add_node("Reshape", {"x", "shape"}, {"y"});
  graph.add_output("y");
  tern::SequentialScheduler scheduler(graph, {"cpu"});
  const tern::Tensor x = tern::Tensor::from_floats(tern::Shape{1, 6}, {0, 1, 2, 3, 4, 5});
  const auto as = [](std::vector<std::int64_t> dims) {
    return tern::Tensor::from(tern::Shape{2}, tern::DataType::Int64, dims);
  };
  EXPECT_EQ(scheduler.forward({x, as({2, 3})})[0].shape(), (tern::Shape{2, 3}));
  // Same input shapes, other values: a cached result would wrongly give [2,3] again.
  EXPECT_EQ(scheduler.forward({x, as({3, 2})})[0].shape(), (tern::Shape{3, 2}));
  EXPECT_EQ(scheduler.forward({x, as({6, 1})})[0].to_doubles(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
}

TEST(SchedulerCache, ConstantReshapeTargetsFollowTheBatch) {
  tern::Graph graph;
  graph.add_input("x", tern::DataType::Float32, tern::Shape{tern::Shape::dynamic, 2, 3});
  graph.add_constant("shape",
                     tern::Tensor::from(tern::Shape{2}, tern::DataType::Int64, std::vector<std::int64_t>{0, -1}));
  graph.add_node("Reshape", {"x", "shape"}, {"y"});
  graph.add_output("y");
  tern::SequentialScheduler scheduler(graph, {"cpu"});
  for (const std::int64_t batch : {1, 4, 1})
    EXPECT_EQ(scheduler.forward({tern::Tensor(tern::Shape{batch, 2, 3}, tern::DataType::Float32)})[0].shape(),
              (tern::Shape{batch, 6}));
}
