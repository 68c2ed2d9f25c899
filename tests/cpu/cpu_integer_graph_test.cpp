// Integer graphs on "cpu": 8-bit tensors flowing through the data-movement ops, MaxPool,
// Relu, Concat and Cast (checked against loops written here), and the graph a PTQ pass
// emits — Conv -> Requantize -> MaxPool -> Reshape -> Gemm -> Requantize — run by the
// scheduler end to end, bit-identical to the float graph on integer-valued tensors with
// Mul -> Round -> Clip in place of each Requantize, with and without fuse_requantize.
#include "integer_reference.hpp"
#include "op_testing.hpp"

#include <tern/recipes.hpp>

#include <gtest/gtest.h>

namespace {

using tern::Attributes;
using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using tern::test::Values;
using Ints = std::vector<std::int64_t>;

Values run_values(const Graph& graph, const std::vector<Tensor>& inputs) {
  tern::SequentialScheduler scheduler(graph, {"cpu"});
  for (const tern::PlanStep& step : scheduler.plan()) EXPECT_EQ(step.backend, "cpu") << step.node->describe();
  return scheduler.forward(inputs).at(0).to_int64s();
}

TEST(IntegerGraph, MovementOpsKeepInt8Values) {
  for (const DataType type : {DataType::Int8, DataType::UInt8}) {
    const Values x = tern::test::random_x(24, type, 5);
    Graph graph;
    graph.add_input("x", type, Shape{2, 1, 3, 4});
    tern::test::add_ints(graph, "axes", {1});
    tern::test::add_ints(graph, "axes0", {0});
    tern::test::add_ints(graph, "shape", {4, 6});
    graph.add_node("Squeeze", {"x", "axes"}, {"s"});
    graph.add_node("Unsqueeze", {"s", "axes0"}, {"u"});
    graph.add_node("Flatten", {"u"}, {"f"}, tern::test::attrs({{"axis", std::int64_t{2}}}));
    graph.add_node("Identity", {"f"}, {"i"});
    graph.add_node("Reshape", {"i", "shape"}, {"r"});
    graph.add_node("Transpose", {"r"}, {"t"}, tern::test::attrs({{"perm", Ints{1, 0}}}));
    graph.add_output("t");
    Values expected(24);
    for (std::int64_t i = 0; i < 4; ++i)
      for (std::int64_t j = 0; j < 6; ++j)
        expected[static_cast<std::size_t>(j * 4 + i)] = x[static_cast<std::size_t>(i * 6 + j)];
    EXPECT_EQ(run_values(graph, {tern::test::typed(Shape{2, 1, 3, 4}, type, x)}), expected) << name(type);
  }
}

TEST(IntegerGraph, ReluMaxPoolConcat) {
  for (const DataType type : {DataType::Int8, DataType::UInt8}) {
    const Shape shape{2, 3, 4, 6};
    const Values x = tern::test::random_x(shape.numel(), type, 9);
    const Tensor t = tern::test::typed(shape, type, x);
    Values relu(x);
    for (auto& v : relu) v = std::max<std::int64_t>(v, 0);
    EXPECT_EQ(tern::test::run_one("Relu", {tern::test::input("x", t)}).to_int64s(), relu);

    Values pooled;
    for (std::int64_t nc = 0; nc < 6; ++nc)
      for (std::int64_t i = 0; i < 2; ++i)
        for (std::int64_t j = 0; j < 3; ++j) {
          std::int64_t best = -1000;
          for (std::int64_t u = 0; u < 2; ++u)
            for (std::int64_t v = 0; v < 2; ++v)
              best = std::max(best, x[static_cast<std::size_t>(nc * 24 + (2 * i + u) * 6 + 2 * j + v)]);
          pooled.push_back(best);
        }
    const Attributes pool = tern::test::attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}});
    const Tensor y = tern::test::run_one("MaxPool", {tern::test::input("x", t)}, pool);
    EXPECT_EQ(y.dtype(), type);
    EXPECT_EQ(y.to_int64s(), pooled);

    const Values other = tern::test::random_x(2 * 4 * 6, type, 10);
    const Tensor second = tern::test::typed(Shape{2, 1, 4, 6}, type, other);
    Values joined;
    for (std::int64_t n = 0; n < 2; ++n) {
      joined.insert(joined.end(), x.begin() + n * 72, x.begin() + (n + 1) * 72);
      joined.insert(joined.end(), other.begin() + n * 24, other.begin() + (n + 1) * 24);
    }
    const Tensor c = tern::test::run_one("Concat", {tern::test::input("a", t), tern::test::input("b", second)},
                                         tern::test::attrs({{"axis", std::int64_t{1}}}));
    EXPECT_EQ(c.dtype(), type);
    EXPECT_EQ(c.to_int64s(), joined);
  }
}

/// 2-D max pooling written out: windows clipped to the input (pads never win a maximum).
Values naive_max_pool(const Values& x, std::int64_t planes, std::int64_t h, std::int64_t w, std::int64_t out_h,
                      std::int64_t out_w, const Ints& kernel, const Ints& strides, const Ints& pads,
                      const Ints& dilations) {
  Values y;
  for (std::int64_t p = 0; p < planes; ++p)
    for (std::int64_t i = 0; i < out_h; ++i)
      for (std::int64_t j = 0; j < out_w; ++j) {
        std::int64_t best = -1000;
        for (std::int64_t u = 0; u < kernel[0]; ++u)
          for (std::int64_t v = 0; v < kernel[1]; ++v) {
            const std::int64_t r = i * strides[0] - pads[0] + u * dilations[0];
            const std::int64_t c = j * strides[1] - pads[1] + v * dilations[1];
            if (r >= 0 && r < h && c >= 0 && c < w)
              best = std::max(best, x[static_cast<std::size_t>((p * h + r) * w + c)]);
          }
        y.push_back(best);
      }
  return y;
}

TEST(IntegerGraph, MaxPoolWindowsMatchNaiveLoops) {
  struct Case {
    Shape x;
    Ints kernel, strides, pads, dilations;
    std::int64_t ceil_mode = 0;
  };
  // 2x2/2 on wide rows (vector blocks and overlapping tails), odd sizes (a dropped last
  // column/row), then windows with pads, overlap, dilation and ceil_mode (rows, then
  // columns): ResNet's 3x3/2 with pads 1, and windows that ceil_mode lets past the end.
  const std::vector<Case> cases{
      {Shape{2, 3, 40, 50}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}},
      {Shape{3, 5, 11, 11}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}},
      {Shape{1, 2, 9, 35}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}},
      {Shape{2, 3, 9, 10}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}},
      {Shape{2, 2, 10, 9}, {3, 2}, {2, 3}, {1, 0, 0, 1}, {2, 1}},
      {Shape{1, 3, 7, 7}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1},
      {Shape{2, 4, 12, 14}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}},
      {Shape{1, 3, 8, 9}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1},
      {Shape{1, 2, 13, 6}, {1, 4}, {3, 1}, {0, 2, 0, 1}, {1, 1}},
  };
  for (const DataType type : {DataType::Int8, DataType::UInt8}) {
    for (const Case& c : cases) {
      const Values x = tern::test::random_x(c.x.numel(), type, 17);
      Attributes a = tern::test::attrs({{"kernel_shape", c.kernel},
                                        {"strides", c.strides},
                                        {"pads", c.pads},
                                        {"dilations", c.dilations},
                                        {"ceil_mode", c.ceil_mode}});
      const Tensor y = tern::test::run_one("MaxPool", {tern::test::input("x", tern::test::typed(c.x, type, x))}, a);
      ASSERT_EQ(y.dtype(), type);
      const Shape& ys = y.shape();
      const Values expected =
          naive_max_pool(x, c.x[0] * c.x[1], c.x[2], c.x[3], ys[2], ys[3], c.kernel, c.strides, c.pads, c.dilations);
      EXPECT_EQ(y.to_int64s(), expected) << name(type) << " X " << c.x << " kernel " << c.kernel[0] << "x"
                                         << c.kernel[1];
      // The same pool channels last (MaxPoolChannelsLast: X [N, H, W, C], Y [N, H', W', C]).
      const Shape x_last{c.x[0], c.x[2], c.x[3], c.x[1]};
      const Tensor y_last = tern::test::run_one(
          "MaxPoolChannelsLast",
          {tern::test::input("x",
                             tern::test::typed(x_last, type, tern::test::nhwc(x, c.x[0], c.x[1], c.x[2], c.x[3])))},
          a);
      ASSERT_EQ(y_last.shape(), (Shape{ys[0], ys[2], ys[3], ys[1]}));
      EXPECT_EQ(y_last.to_int64s(), tern::test::nhwc(expected, ys[0], ys[1], ys[2], ys[3]))
          << name(type) << " X " << c.x << " channels last, kernel " << c.kernel[0] << "x" << c.kernel[1];
    }
  }
}

TEST(IntegerGraph, CastBetweenFloatAndIntegers) {
  const auto cast = [](const Tensor& x, const char* to) {
    return tern::test::run_one("Cast", {tern::test::input("x", x)}, tern::test::attrs({{"to", std::string(to)}}));
  };
  // Tern's Cast truncates toward zero and saturates (dtype.hpp).
  const Tensor f = Tensor::from_floats(Shape{5}, {1.7f, -1.7f, 300.0f, -300.0f, 42.0f});
  EXPECT_EQ(cast(f, "int8").to_int64s(), (Values{1, -1, 127, -128, 42}));
  EXPECT_EQ(cast(f, "uint8").to_int64s(), (Values{1, 0, 255, 0, 42}));
  EXPECT_EQ(cast(f, "int32").to_int64s(), (Values{1, -1, 300, -300, 42}));
  const Tensor i8 = tern::test::typed(Shape{3}, DataType::Int8, {-128, 0, 127});
  EXPECT_EQ(cast(i8, "float32").to_doubles(), (std::vector<double>{-128, 0, 127}));
  EXPECT_EQ(cast(i8, "uint8").to_int64s(), (Values{0, 0, 127}));
  EXPECT_EQ(cast(i8, "int32").to_int64s(), (Values{-128, 0, 127}));
  const Tensor u8 = tern::test::typed(Shape{2}, DataType::UInt8, {0, 255});
  EXPECT_EQ(cast(u8, "int8").to_int64s(), (Values{0, 127}));
  EXPECT_EQ(cast(u8, "float32").to_doubles(), (std::vector<double>{0, 255}));
  const Tensor i32 = tern::test::typed(Shape{3}, DataType::Int32, {-1000, 5, 1000});
  EXPECT_EQ(cast(i32, "uint8").to_int64s(), (Values{0, 5, 255}));
  EXPECT_EQ(cast(i32, "int8").to_int64s(), (Values{-128, 5, 127}));
}

/// The parameters both forms of the small network share.
struct Network {
  static constexpr std::int64_t batch = 3, channels = 6, side = 10, classes = 10;
  static constexpr std::int64_t features = channels * (side / 2) * (side / 2);
  Values w1 = tern::test::random_values(channels * 9, -128, 127, 41);
  Values b1 = tern::test::random_values(channels, -30000, 30000, 42);
  std::vector<float> s1{0.0011f, 0.0009f, 0.0015f, 0.0007f, 0.0021f, 0.0013f};
  Values w2 = tern::test::random_values(classes * features, -128, 127, 43);
  Values b2 = tern::test::random_values(classes, -200000, 200000, 44);
  float s2 = 0.00037f;
};

const Attributes conv_attrs = tern::test::attrs({{"pads", Ints{1, 1, 1, 1}}});
const Attributes pool_attrs = tern::test::attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}});
const Attributes gemm_attrs = tern::test::attrs({{"transB", std::int64_t{1}}});

Attributes requantize_attrs(const std::vector<float>& scale, std::int64_t lo, std::int64_t hi, const char* to) {
  return tern::test::attrs(
      {{"scale", std::vector<double>(scale.begin(), scale.end())}, {"lo", lo}, {"hi", hi}, {"to", std::string(to)}});
}

Graph integer_network(const Network& net) {
  using N = Network;
  Graph graph;
  graph.add_input("x", DataType::UInt8, Shape{tern::Shape::dynamic, 1, N::side, N::side});
  graph.add_constant("w1", tern::test::typed(Shape{N::channels, 1, 3, 3}, DataType::Int8, net.w1));
  graph.add_constant("b1", tern::test::typed(Shape{N::channels}, DataType::Int32, net.b1));
  graph.add_constant("w2", tern::test::typed(Shape{N::classes, N::features}, DataType::Int8, net.w2));
  graph.add_constant("b2", tern::test::typed(Shape{N::classes}, DataType::Int32, net.b2));
  tern::test::add_ints(graph, "shape", {0, -1});
  graph.add_node("Conv", {"x", "w1", "b1"}, {"acc1"}, conv_attrs, "conv");
  graph.add_node("Requantize", {"acc1"}, {"q1"}, requantize_attrs(net.s1, 0, 255, "uint8"), "rq1");
  graph.add_node("MaxPool", {"q1"}, {"p"}, pool_attrs, "pool");
  graph.add_node("Reshape", {"p", "shape"}, {"r"}, {}, "reshape");
  graph.add_node("Gemm", {"r", "w2", "b2"}, {"acc2"}, gemm_attrs, "fc");
  graph.add_node("Requantize", {"acc2"}, {"logits"}, requantize_attrs({net.s2}, -128, 127, "int8"), "rq2");
  graph.add_output("logits");
  return graph;
}

/// Mul -> Round -> Clip after `value`, the fake-quantized form of Requantize.
std::string fake_requantize(Graph& graph, const std::string& value, const std::string& scale, float lo, float hi) {
  tern::test::add_floats(graph, value + "_lo", Shape{}, {lo});
  tern::test::add_floats(graph, value + "_hi", Shape{}, {hi});
  graph.add_node("Mul", {value, scale}, {value + "_scaled"});
  graph.add_node("Round", {value + "_scaled"}, {value + "_rounded"});
  graph.add_node("Clip", {value + "_rounded", value + "_lo", value + "_hi"}, {value + "_q"});
  return value + "_q";
}

Tensor floats_of(Shape shape, const Values& values) {
  return tern::test::typed(std::move(shape), DataType::Float32, values);
}

Graph float_network(const Network& net) {
  using N = Network;
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{tern::Shape::dynamic, 1, N::side, N::side});
  graph.add_constant("w1", floats_of(Shape{N::channels, 1, 3, 3}, net.w1));
  graph.add_constant("b1", floats_of(Shape{N::channels}, net.b1));
  graph.add_constant("s1", Tensor::from_floats(Shape{1, N::channels, 1, 1}, net.s1));
  graph.add_constant("w2", floats_of(Shape{N::classes, N::features}, net.w2));
  graph.add_constant("b2", floats_of(Shape{N::classes}, net.b2));
  graph.add_constant("s2", Tensor::from_floats(Shape{1}, {net.s2}));
  tern::test::add_ints(graph, "shape", {0, -1});
  graph.add_node("Conv", {"x", "w1", "b1"}, {"acc1"}, conv_attrs, "conv");
  const std::string q1 = fake_requantize(graph, "acc1", "s1", 0.0f, 255.0f);
  graph.add_node("MaxPool", {q1}, {"p"}, pool_attrs, "pool");
  graph.add_node("Reshape", {"p", "shape"}, {"r"}, {}, "reshape");
  graph.add_node("Gemm", {"r", "w2", "b2"}, {"acc2"}, gemm_attrs, "fc");
  graph.add_output(fake_requantize(graph, "acc2", "s2", -128.0f, 127.0f));
  return graph;
}

TEST(IntegerGraph, EndToEndEqualsFakeQuantizedFloatGraph) {
  const Network net;
  const Shape x_shape{Network::batch, 1, Network::side, Network::side};
  const Values x = tern::test::random_values(x_shape.numel(), 0, 255, 45);
  const Values expected = run_values(float_network(net), {floats_of(x_shape, x)});
  const Tensor x_u8 = tern::test::typed(x_shape, DataType::UInt8, x);

  const Graph unfused = integer_network(net);
  EXPECT_EQ(run_values(unfused, {x_u8}), expected);

  Graph fused = integer_network(net);
  EXPECT_EQ(tern::fuse_requantize(fused), 2u);
  EXPECT_EQ(fused.node_count(), 4u);
  EXPECT_EQ(fused.outputs().at(0)->name(), "logits");
  EXPECT_EQ(run_values(fused, {x_u8}), expected);
}

} // namespace
