// unsigned_activations on "cpu": in an integer network as the PTQ writes it (int8
// everywhere), the requantizations that clamp at zero (ReLU, ReLU6) write uint8 where
// nothing but values is read; a signed one, one feeding a Concat with a signed branch and
// one producing a graph output stay int8; and the network's results, prepared for
// inference, equal naive loops (integer_reference.hpp) bit for bit.
#include "integer_reference.hpp"
#include "op_testing.hpp"

#include <tern/recipes.hpp>
#include <tern/runtime.hpp>

#include <gtest/gtest.h>

namespace {

using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::test::Values;
using Ints = std::vector<std::int64_t>;

constexpr std::int64_t batch = 2, channels = 8, side = 10, wide = 16, half = side / 2;

/// The network's parameters: a 3x3 Conv with ReLU, 2x2 MaxPool, a depthwise 3x3 with ReLU6,
/// a linear 1x1 (signed); beside them a strided 1x1 with ReLU from the input; the two
/// concatenated, and a 1x1 with ReLU as the graph output.
struct Weights {
  Values a = tern::test::random_values(wide * channels * 9, -128, 127, 1);
  Values a_bias = tern::test::random_values(wide, -20000, 20000, 2);
  Values dw = tern::test::random_values(wide * 9, -128, 127, 3);
  Values dw_bias = tern::test::random_values(wide, -3000, 3000, 4);
  Values pw = tern::test::random_values(channels * wide, -128, 127, 5);
  Values b = tern::test::random_values(channels * channels, -128, 127, 6);
  Values out = tern::test::random_values(4 * wide, -128, 127, 7);
};

tern::Attributes requantize(float scale, std::int64_t lo, std::int64_t hi) {
  return tern::test::attrs(
      {{"scale", std::vector<double>{scale}}, {"lo", lo}, {"hi", hi}, {"to", std::string("int8")}});
}

Graph network(const Weights& w) {
  Graph graph;
  graph.add_input("x", DataType::Int8, Shape{batch, channels, side, side});
  const auto int8s = [&](const char* name, Shape shape, const Values& values) {
    graph.add_constant(name, tern::test::typed(std::move(shape), DataType::Int8, values));
  };
  int8s("wa", Shape{wide, channels, 3, 3}, w.a);
  graph.add_constant("ba", tern::test::typed(Shape{wide}, DataType::Int32, w.a_bias));
  int8s("wdw", Shape{wide, 1, 3, 3}, w.dw);
  graph.add_constant("bdw", tern::test::typed(Shape{wide}, DataType::Int32, w.dw_bias));
  int8s("wpw", Shape{channels, wide, 1, 1}, w.pw);
  int8s("wb", Shape{channels, channels, 1, 1}, w.b);
  int8s("wout", Shape{4, wide, 1, 1}, w.out);
  const auto attrs = tern::test::attrs;
  graph.add_node("Conv", {"x", "wa", "ba"}, {"a_sum"}, attrs({{"pads", Ints{1, 1, 1, 1}}}));
  graph.add_node("Requantize", {"a_sum"}, {"a"}, requantize(0.002f, 0, 127));
  graph.add_node("MaxPool", {"a"}, {"p"}, attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}));
  graph.add_node("Conv", {"p", "wdw", "bdw"}, {"dw_sum"}, attrs({{"pads", Ints{1, 1, 1, 1}}, {"group", wide}}));
  graph.add_node("Requantize", {"dw_sum"}, {"d"}, requantize(0.006f, 0, 90));
  graph.add_node("Conv", {"d", "wpw"}, {"e_sum"});
  graph.add_node("Requantize", {"e_sum"}, {"e"}, requantize(0.005f, -128, 127));
  graph.add_node("Conv", {"x", "wb"}, {"f_sum"}, attrs({{"strides", Ints{2, 2}}}));
  graph.add_node("Requantize", {"f_sum"}, {"f"}, requantize(0.005f, 0, 127));
  graph.add_node("Concat", {"e", "f"}, {"g"}, attrs({{"axis", std::int64_t{1}}}));
  graph.add_node("Conv", {"g", "wout"}, {"out_sum"});
  graph.add_node("Requantize", {"out_sum"}, {"out"}, requantize(0.005f, 0, 127));
  graph.add_output("out");
  return graph;
}

/// 2x2/2 max pooling of [planes, h, w] written out.
Values max_pool_2x2(const Values& x, std::int64_t planes, std::int64_t h, std::int64_t w) {
  Values y;
  for (std::int64_t p = 0; p < planes; ++p)
    for (std::int64_t i = 0; i < h / 2; ++i)
      for (std::int64_t j = 0; j < w / 2; ++j) {
        std::int64_t best = -1000;
        for (std::int64_t u = 0; u < 2; ++u)
          for (std::int64_t v = 0; v < 2; ++v)
            best = std::max(best, x[static_cast<std::size_t>((p * h + 2 * i + u) * w + 2 * j + v)]);
        y.push_back(best);
      }
  return y;
}

/// The network's output from naive loops.
Values expected_output(const Weights& w, const Values& x) {
  using tern::test::conv2d;
  using tern::test::Conv2d;
  const auto requantized = [](const Values& sums, float scale, std::int64_t lo, std::int64_t hi) {
    return tern::test::requantize(sums, {scale}, 1, 1, lo, hi);
  };
  const Values a = requantized(conv2d({batch, channels, side, side, wide, 3, 3, 1, 1, 1, 1, 1, 1, 1}, x, w.a, w.a_bias),
                               0.002f, 0, 127);
  const Values p = max_pool_2x2(a, batch * wide, side, side);
  const Values d = requantized(
      conv2d({batch, wide, half, half, wide, 3, 3, wide, 1, 1, 1, 1, 1, 1}, p, w.dw, w.dw_bias), 0.006f, 0, 90);
  const Values e = requantized(conv2d({batch, wide, half, half, channels, 1, 1}, d, w.pw, {}), 0.005f, -128, 127);
  const Values f =
      requantized(conv2d({batch, channels, side, side, channels, 1, 1, 1, 2, 2}, x, w.b, {}), 0.005f, 0, 127);
  Values g; // Concat along channels, image by image
  const std::int64_t image = channels * half * half;
  for (std::int64_t n = 0; n < batch; ++n) {
    g.insert(g.end(), e.begin() + n * image, e.begin() + (n + 1) * image);
    g.insert(g.end(), f.begin() + n * image, f.begin() + (n + 1) * image);
  }
  return requantized(conv2d({batch, wide, half, half, 4, 1, 1}, g, w.out, {}), 0.005f, 0, 127);
}

TEST(IntegerUnsignedActivations, NonNegativeRequantizationsWriteUint8WhereOnlyValuesAreRead) {
  const Weights w;
  Graph graph = network(w);
  tern::fuse_requantize(graph); // the Convs' outputs, *_sum, are now the requantized values
  EXPECT_EQ(tern::unsigned_activations(graph, {"cpu"}), 2u);
  const auto dtype = [&](const char* value) { return graph.value(value).dtype(); };
  EXPECT_EQ(dtype("a_sum"), DataType::UInt8);                // ReLU's, read by MaxPool
  EXPECT_EQ(dtype("p"), DataType::UInt8);                    // MaxPool's follows its input
  EXPECT_EQ(dtype("dw_sum"), DataType::UInt8);               // ReLU6's, read by a Conv
  EXPECT_EQ(dtype("e_sum"), DataType::Int8);                 // signed
  EXPECT_EQ(dtype("f_sum"), DataType::Int8);                 // concatenated with e, which is signed
  EXPECT_EQ(dtype("out"), DataType::Int8);                   // a graph output keeps its dtype
  EXPECT_EQ(tern::unsigned_activations(graph, {"cpu"}), 0u); // nothing left to retype
}

TEST(IntegerUnsignedActivations, PreparedNetworkEqualsNaiveLoops) {
  const Weights w;
  const Values x = tern::test::random_x(batch * channels * side * side, DataType::Int8, 8);
  Graph graph = network(w);
  tern::prepare_for_inference(graph, {"cpu"});
  std::size_t unsigned_values = 0;
  for (const tern::Node* node : graph.nodes())
    unsigned_values += static_cast<std::size_t>(node->output()->dtype() == DataType::UInt8);
  EXPECT_GE(unsigned_values, 2u) << "the recipe ran in prepare_for_inference";
  tern::SequentialScheduler scheduler(graph, {"cpu"});
  const tern::Tensor y =
      scheduler.forward({tern::test::typed(Shape{batch, channels, side, side}, DataType::Int8, x)}).at(0);
  EXPECT_EQ(y.dtype(), DataType::Int8);
  EXPECT_EQ(y.to_int64s(), expected_output(w, x));
}

} // namespace
