#pragma once
// Shared by the cpu kernel suites: run one node on a backend and look at its outputs.

#include "schema_testing.hpp"

#include <tern/scheduler.hpp>

#include <gtest/gtest.h>

namespace tern::test {

inline const std::string node_name = "node_under_test";

/// One input of the node under test: a graph input, or a constant (shape inputs that
/// must be known before running); an empty name is an absent optional input.
struct Feed {
  std::string name;
  Tensor value;
  bool constant = false;
};

inline Feed input(std::string name, Tensor value) { return {std::move(name), std::move(value), false}; }
inline Feed constant(std::string name, Tensor value) { return {std::move(name), std::move(value), true}; }

inline Tensor floats(Shape shape, const std::vector<float>& values) {
  return Tensor::from_floats(std::move(shape), values);
}
inline Tensor int64s(Shape shape, const Ints& values) {
  return Tensor::from(std::move(shape), DataType::Int64, values);
}
inline Tensor int64s(const Ints& values) { return int64s(Shape{static_cast<std::int64_t>(values.size())}, values); }

template <class T> std::vector<T> values(const Tensor& tensor) {
  const T* data = tensor.data<T>();
  return std::vector<T>(data, data + tensor.numel());
}

/// Builds a graph of one `op` node named node_name over `feeds`, runs it on `backend`
/// (checking every step ran there) and returns its outputs.
inline std::vector<Tensor> run_op(const std::string& op, const std::vector<Feed>& feeds, Attributes options = {},
                                  std::size_t output_count = 1, const std::string& backend = "cpu") {
  Graph graph;
  std::vector<std::string> names;
  std::vector<Tensor> inputs;
  for (const Feed& feed : feeds) {
    names.push_back(feed.name);
    if (feed.name.empty()) continue;
    if (feed.constant) {
      graph.add_constant(feed.name, feed.value);
    } else {
      graph.add_input(feed.name, feed.value.dtype(), feed.value.shape());
      inputs.push_back(feed.value);
    }
  }
  std::vector<std::string> outputs;
  for (std::size_t i = 0; i < output_count; ++i) outputs.push_back("out" + std::to_string(i));
  graph.add_node(op, names, outputs, std::move(options), node_name);
  for (const std::string& output : outputs) graph.add_output(output);
  SequentialScheduler scheduler(graph, {backend});
  for (const PlanStep& step : scheduler.plan()) EXPECT_EQ(step.backend, backend);
  return scheduler.forward(inputs);
}

inline Tensor run_one(const std::string& op, const std::vector<Feed>& feeds, Attributes options = {}) {
  return run_op(op, feeds, std::move(options)).at(0);
}

inline void expect_floats_near(const Tensor& actual, const Shape& shape, const std::vector<float>& expected,
                               float tolerance = 1e-5f) {
  ASSERT_EQ(actual.dtype(), DataType::Float32);
  ASSERT_EQ(actual.shape(), shape);
  const std::vector<float> got = values<float>(actual);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tolerance) << "element " << i;
}

} // namespace tern::test
