// cast_to_integer's residual Adds and average pools on a small network built here: the
// integer graph sums and pools in integers where it can (per-tensor and per-channel Add
// factors, AveragePool with counted pads), leaves in float what a window sum cannot express
// (uncounted pads, ceil_mode), and computes what the fake-quantized graph computes.
#include "graphs.hpp"

#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include <algorithm>

namespace tern {
namespace {

using Ints = std::vector<std::int64_t>;

/// x[N, 2, 8, 8] -> Conv(2 -> 4, 3x3) -> Relu = r; Add(r, Conv(r)) -> Relu -> `pool`
/// (AveragePool 3x3, stride 2, pads 1 -> [N, 4, 4, 4]) -> GlobalAveragePool -> Flatten -> Gemm(4 -> 3).
Graph residual_net(const Attributes& pool) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 2, 8, 8});
  graph.add_constant("w1", test::random_tensor({4, 2, 3, 3}, 31));
  graph.add_constant("b1", test::random_tensor({4}, 32, -0.1f, 0.1f));
  graph.add_constant("w2", test::random_tensor({4, 4, 3, 3}, 33, -0.5f, 0.5f));
  graph.add_constant("b2", test::random_tensor({4}, 34, -0.1f, 0.1f));
  graph.add_constant("w3", test::random_tensor({3, 4}, 35));
  graph.add_constant("b3", test::random_tensor({3}, 36, -0.1f, 0.1f));
  Attributes conv;
  conv.set("pads", Ints{1, 1, 1, 1});
  graph.add_node("Conv", {"x", "w1", "b1"}, {"c1"}, conv, "conv1");
  graph.add_node("Relu", {"c1"}, {"r1"});
  graph.add_node("Conv", {"r1", "w2", "b2"}, {"c2"}, conv, "conv2");
  graph.add_node("Add", {"r1", "c2"}, {"sum"}, {}, "add");
  graph.add_node("Relu", {"sum"}, {"r2"});
  graph.add_node("AveragePool", {"r2"}, {"p"}, pool, "pool");
  graph.add_node("GlobalAveragePool", {"p"}, {"g"}, {}, "global_pool");
  graph.add_node("Flatten", {"g"}, {"f"});
  Attributes gemm;
  gemm.set("transB", std::int64_t{1});
  graph.add_node("Gemm", {"f", "w3", "b3"}, {"y"}, gemm, "fc");
  graph.add_output("y");
  graph.infer_shapes();
  return graph;
}

Attributes pool_attributes(std::int64_t count_include_pad, std::int64_t ceil_mode) {
  Attributes pool;
  pool.set("kernel_shape", Ints{3, 3});
  pool.set("strides", Ints{2, 2});
  pool.set("pads", Ints{1, 1, 1, 1});
  pool.set("count_include_pad", count_include_pad);
  pool.set("ceil_mode", ceil_mode);
  return pool;
}

Tensor images() { return test::random_tensor({16, 2, 8, 8}, 37, 0.0f, 1.0f); }

/// The fake-quantized network; with `per_channel_sum`, the factor aligning the Add's second
/// operand (the quantize pass's scalar) becomes one factor per channel, shaped [C, 1, 1].
Graph fake_quantized(const Attributes& pool, bool per_channel_sum) {
  Graph graph = residual_net(pool);
  ptq::auto_assign_node_precision(graph, DataType::Int8, DataType::Int8, DataType::Int32);
  ptq::QuantizeOptions options;
  options.fake_quantize = true;
  ptq::quantize_network(graph, std::vector<Tensor>{images()}, options);
  if (per_channel_sum) {
    Value& factor = *graph.find_node("add")->input(1)->producer()->input(1);
    const float f = factor.constant()->data<float>()[0];
    graph.set_constant(factor, Tensor::from_floats(Shape{4, 1, 1}, {f, 0.5f * f, 0.75f * f, 1.25f * f}));
  }
  return graph;
}

Graph integer_copy(const Graph& fake) {
  Graph integer = fake.clone();
  ptq::cast_to_integer(integer, ptq::QuantizeOptions{});
  return integer;
}

Tensor run(const Graph& graph) {
  SequentialScheduler scheduler(graph, {"cpu"});
  return scheduler.forward({ptq::scale_input(graph, images())})[0];
}

std::size_t count(const Graph& graph, const std::string& op_type) {
  const std::vector<Node*> nodes = graph.nodes();
  return static_cast<std::size_t>(
      std::count_if(nodes.begin(), nodes.end(), [&](const Node* n) { return n->op_type() == op_type; }));
}

TEST(PtqCastToInteger, ResidualAddAndCountedPadsPoolInIntegers) {
  for (const bool per_channel_sum : {false, true}) {
    const Graph fake = fake_quantized(pool_attributes(1, 0), per_channel_sum);
    const Graph integer = integer_copy(fake);
    EXPECT_EQ(integer.find_node("add")->output()->dtype(), DataType::Int32) << per_channel_sum;
    EXPECT_EQ(integer.find_node("pool")->op_type(), "Conv");
    EXPECT_EQ(integer.find_node("global_pool")->op_type(), "Conv");
    EXPECT_EQ(count(integer, "Cast"), 1u) << "only the logits' dequantization reads floats";
    // The per-channel factor became a per-channel int32 Requantize of the operand.
    const Node* operand = integer.find_node("add")->input(1)->producer();
    EXPECT_EQ(operand->attr<std::vector<double>>("scale").size(), per_channel_sum ? 4u : 1u);
    // The same integers as the float graph (no tie of rounding falls in these images).
    EXPECT_EQ(test::max_abs_diff(run(fake), run(integer)), 0.0) << per_channel_sum;
  }
}

TEST(PtqCastToInteger, PoolsThatAreNoWindowSumStayInFloat) {
  // Uncounted pads divide border windows by fewer elements; ceil_mode adds partial windows.
  for (const auto& [count_include_pad, ceil_mode] : {std::pair{0, 0}, std::pair{1, 1}}) {
    const Graph fake = fake_quantized(pool_attributes(count_include_pad, ceil_mode), false);
    const Graph integer = integer_copy(fake);
    EXPECT_EQ(integer.find_node("pool")->op_type(), "AveragePool");
    EXPECT_EQ(integer.find_node("pool")->output()->dtype(), DataType::Float32);
    EXPECT_EQ(integer.find_node("add")->output()->dtype(), DataType::Int32);
    EXPECT_EQ(test::max_abs_diff(run(fake), run(integer)), 0.0) << count_include_pad << ceil_mode;
  }
}

} // namespace
} // namespace tern
