#include "graphs.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace tern::test {

Attributes attributes(std::initializer_list<std::pair<const char*, Attribute>> entries) {
  Attributes attrs;
  for (const auto& [key, value] : entries) attrs.set(key, value);
  return attrs;
}

std::size_t count_of(const Graph& graph, const std::string& op_type) {
  std::size_t count = 0;
  for (const Node* node : graph.nodes()) count += node->op_type() == op_type;
  return count;
}

Graph relu_chain(int layers, std::int64_t width) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, width});
  std::string previous = "x";
  for (int i = 0; i < layers; ++i) {
    const std::string output = i + 1 == layers ? "y" : "h" + std::to_string(i);
    graph.add_node("Relu", {previous}, {output});
    previous = output;
  }
  graph.add_output("y");
  return graph;
}

Tensor random_tensor(const Shape& shape, std::uint32_t seed, float low, float high) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(low, high);
  std::vector<float> values(static_cast<std::size_t>(shape.numel()));
  for (float& v : values) v = uniform(generator);
  return Tensor::from_floats(shape, values);
}

Tensor run_reference(const Graph& graph, const Tensor& input) {
  SequentialScheduler scheduler(graph, {"reference"});
  return scheduler.forward({input})[0];
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.to_doubles(), y = b.to_doubles();
  EXPECT_EQ(x.size(), y.size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

::testing::AssertionResult close_to(const Tensor& actual, const Tensor& expected) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << actual.shape() << " != expected " << expected.shape();
  const auto a = actual.to_doubles(), e = expected.to_doubles();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(std::abs(a[i] - e[i]) <= 1e-4 * std::max(1.0, std::abs(e[i]))))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " != expected " << e[i];
  return ::testing::AssertionSuccess();
}

} // namespace tern::test
