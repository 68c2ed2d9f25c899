// QDQ models onto integer kernels (ptq::qdq_to_integer): a hand-built QDQ network with the
// zero points ONNX Runtime's quantize_static writes (asymmetric int8 and uint8, the -128 /
// 128 ones that only shift the type, per-channel and per-tensor weights, int32 biases on
// s_x * s_w) must compute, on Tern's integer kernels, what the file means: its float run
// (DequantizeLinear -> float op -> QuantizeLinear, ONNX's definitions) within one output
// step, and equal on nearly every element; what it cannot compute exactly stays float.
#include "graphs.hpp"

#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace tern {
namespace {

using test::attributes;

using Ints = std::vector<std::int64_t>;

/// Builds a QDQ graph: every activation goes through QuantizeLinear -> DequantizeLinear.
class QdqNet {
public:
  Graph graph;

  /// QuantizeLinear then DequantizeLinear of `x`; returns the dequantized value's name.
  std::string quantized(const std::string& x, float scale, std::int32_t zero_point, DataType type) {
    const std::string scale_name = x + "_scale", zero_name = x + "_zero";
    graph.add_constant(scale_name, Tensor::from_floats(Shape{}, {scale}));
    graph.add_constant(zero_name,
                       Tensor::from(Shape{}, DataType::Int32, std::vector<std::int32_t>{zero_point}).cast(type));
    graph.add_node("QuantizeLinear", {x, scale_name, zero_name}, {x + "_q"});
    graph.add_node("DequantizeLinear", {x + "_q", scale_name, zero_name}, {x + "_dq"});
    scales[x + "_dq"] = scale;
    return x + "_dq";
  }

  /// DequantizeLinear of random int8 weights of `shape`, one scale per slice along `axis`
  /// (or one in all when `scale` has one value); zero point 0, as integer runtimes take them.
  std::string weights(const std::string& name, const Shape& shape, std::int64_t axis, const std::vector<float>& scale,
                      std::uint32_t seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> value(-127, 127);
    std::vector<std::int8_t> values(static_cast<std::size_t>(shape.numel()));
    for (std::int8_t& v : values) v = static_cast<std::int8_t>(value(random));
    graph.add_constant(name + "_int8", Tensor::from(shape, DataType::Int8, values));
    const Shape scale_shape = scale.size() == 1 ? Shape{} : Shape{static_cast<std::int64_t>(scale.size())};
    graph.add_constant(name + "_scale", Tensor::from_floats(scale_shape, scale));
    Attributes attrs;
    attrs.set("axis", axis);
    graph.add_node("DequantizeLinear", {name + "_int8", name + "_scale"}, {name}, attrs);
    return name;
  }

  /// DequantizeLinear of a random int32 bias on scale x_scale * w_scale[c].
  std::string bias(const std::string& name, float x_scale, const std::vector<float>& w_scale, std::uint32_t seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<std::int32_t> value(-2000, 2000);
    std::vector<std::int32_t> values(w_scale.size());
    std::vector<float> scale;
    for (std::size_t c = 0; c < w_scale.size(); ++c) {
      values[c] = value(random);
      scale.push_back(x_scale * w_scale[c]);
    }
    const Shape shape{static_cast<std::int64_t>(w_scale.size())};
    graph.add_constant(name + "_int32", Tensor::from(shape, DataType::Int32, values));
    graph.add_constant(name + "_scale", Tensor::from_floats(shape, scale));
    Attributes attrs;
    attrs.set("axis", std::int64_t{0});
    graph.add_node("DequantizeLinear", {name + "_int32", name + "_scale"}, {name}, attrs);
    return name;
  }

  std::map<std::string, float> scales;
};

std::vector<float> spread(std::size_t count, float low, float high) {
  std::vector<float> values;
  for (std::size_t i = 0; i < count; ++i)
    values.push_back(low + (high - low) * static_cast<float>(i) / static_cast<float>(count - 1));
  return values;
}

/// x[N,3,8,8] (int8, zero point 3) -> Conv 3x3 pads 1 (per-channel, bias; int8 zp -20)
/// -> Relu (same quantization) -> MaxPool 2x2 = m; Conv 1x1 (per tensor, no bias; uint8
/// zp 128) = c; Add(c, m) (int8 zp -128) -> GlobalAveragePool (uint8 zp 10) -> Flatten
/// -> Gemm (transB 0, per-channel along W's axis 1, int8 zp 5) = y1, MatMul (int8 zp -3)
/// = y2, Sigmoid(y1) = y3; m -> BatchNormalization (int8 zp 7) -> times c2 (int8 zp -5)
/// -> Concat with m (each requantized to the output's scale; int8 zp 9) = y4 -> Pad 1 with 0
/// -> AveragePool 2x2 stride 2 (int8 zp -7) = y5.
QdqNet mixed_net() {
  QdqNet net;
  Graph& g = net.graph;
  g.add_input("x", DataType::Float32, Shape{Shape::dynamic, 3, 8, 8});
  // Scales in no simple ratio: with ratios like 2 an average of 16 values ties half the time,
  // and the float run breaks ties by its rounding noise.
  const float sx = 2.03f / 255, s1 = 3.1f / 255, s2 = 2.17f / 255, sa = 4.3f / 255, sg = 2.11f / 255;
  const std::string x = net.quantized("x", sx, 3, DataType::Int8);
  const std::vector<float> w1_scale = spread(8, 0.1f / 127, 0.3f / 127);
  g.add_node("Conv", {x, net.weights("w1", {8, 3, 3, 3}, 0, w1_scale, 1), net.bias("b1", sx, w1_scale, 2)}, {"c1"},
             attributes({{"pads", Ints{1, 1, 1, 1}}}), "conv1");
  const std::string c1 = net.quantized("c1", s1, -20, DataType::Int8);
  g.add_node("Relu", {c1}, {"r1"}, {}, "relu");
  const std::string r1 = net.quantized("r1", s1, -20, DataType::Int8);
  g.add_node("MaxPool", {r1}, {"m"}, attributes({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}), "pool");
  const std::string m = net.quantized("m", s1, -20, DataType::Int8);
  g.add_node("Conv", {m, net.weights("w2", {8, 8, 1, 1}, 0, {0.3f / 127}, 3)}, {"c2"}, {}, "conv2");
  const std::string c2 = net.quantized("c2", s2, 128, DataType::UInt8);
  g.add_node("Add", {c2, m}, {"a"}, {}, "add");
  const std::string a = net.quantized("a", sa, -128, DataType::Int8);
  g.add_node("GlobalAveragePool", {a}, {"gap"}, {}, "gap");
  const std::string gap = net.quantized("gap", sg, 10, DataType::UInt8);
  g.add_node("Flatten", {gap}, {"f"}, {}, "flatten");
  const std::string f = net.quantized("f", sg, 10, DataType::UInt8);
  const std::vector<float> wg_scale = spread(5, 0.5f / 127, 1.0f / 127);
  g.add_node("Gemm", {f, net.weights("wg", {8, 5}, 1, wg_scale, 4), net.bias("bg", sg, wg_scale, 5)}, {"y1"}, {},
             "gemm");
  net.quantized("y1", 0.0213f, 5, DataType::Int8);
  g.add_node("MatMul", {f, net.weights("wm", {8, 5}, 1, spread(5, 0.2f / 127, 0.6f / 127), 6)}, {"y2"}, {}, "matmul");
  net.quantized("y2", 0.0107f, -3, DataType::Int8);
  g.add_node("Sigmoid", {"y1_dq"}, {"y3"}, {}, "sigmoid");
  net.quantized("y3", 1.0f / 255, 0, DataType::UInt8);
  // m -> BatchNormalization (int8 zp 7) -> times c2 (int8 zp -5) -> Concat with m (rescaled)
  g.add_constant("gamma", test::random_tensor({8}, 8, 0.5f, 1.5f));
  g.add_constant("beta", test::random_tensor({8}, 9, -0.2f, 0.2f));
  g.add_constant("running_mean", test::random_tensor({8}, 10, -0.1f, 0.3f));
  g.add_constant("running_var", test::random_tensor({8}, 11, 0.2f, 1.0f));
  g.add_node("BatchNormalization", {m, "gamma", "beta", "running_mean", "running_var"}, {"bn"}, {}, "bn");
  const std::string bn = net.quantized("bn", 3.3f / 255, 7, DataType::Int8);
  g.add_node("Mul", {bn, c2}, {"product"}, {}, "product");
  const std::string product = net.quantized("product", 2.9f / 255, -5, DataType::Int8);
  g.add_node("Concat", {product, m}, {"y4"}, attributes({{"axis", std::int64_t{1}}}), "concat");
  const std::string y4 = net.quantized("y4", 3.7f / 255, 9, DataType::Int8);
  // y4 -> Pad 1 with 0 (its integer: the zero point 9) -> AveragePool 2x2 stride 2 (int8 zp -7) = y5
  g.add_constant("pads", Tensor::from(Shape{8}, DataType::Int64, Ints{0, 0, 1, 1, 0, 0, 1, 1}));
  g.add_node("Pad", {y4, "pads"}, {"padded"}, {}, "pad");
  const std::string padded = net.quantized("padded", 3.7f / 255, 9, DataType::Int8);
  g.add_node("AveragePool", {padded}, {"y5"}, attributes({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}),
             "average");
  net.quantized("y5", 2.3f / 255, -7, DataType::Int8);
  for (const char* output : {"y1_dq", "y2_dq", "y3_dq", "y4_dq", "y5_dq"}) g.add_output(output);
  g.infer_shapes();
  return net;
}

std::vector<Tensor> run(const Graph& graph) {
  SequentialScheduler scheduler(graph, {"cpu"});
  return scheduler.forward({test::random_tensor({16, 3, 8, 8}, 7, -1.0f, 1.0f)});
}

TEST(PtqQdqToInteger, ComputesWhatTheQdqFileMeansOnIntegerKernels) {
  const QdqNet net = mixed_net();
  Graph integer = net.graph.clone();
  ptq::qdq_to_integer(integer);

  // Every quantized operator now reads and writes integers.
  for (const Node* node : integer.nodes()) {
    const std::string& op = node->op_type();
    if (op == "Conv" || op == "Gemm" || op == "MatMul" || op == "MaxPool" || op == "Flatten" || op == "Pad") {
      EXPECT_NE(node->input(0)->dtype(), DataType::Float32) << node->describe();
    }
    EXPECT_NE(op, "Relu") << "a Relu on one scale is the Requantize's clamp";
    EXPECT_TRUE(op != "GlobalAveragePool" && op != "AveragePool") << "an average is a depthwise Conv of ones";
    EXPECT_NE(op, "BatchNormalization") << "a per-channel affine is a Requantize by channel plus a constant";
    if (op == "Add" || op == "Mul") {
      EXPECT_EQ(node->output()->dtype(), DataType::Int32) << node->describe();
    }
  }
  EXPECT_EQ(integer.find_node("sigmoid"), nullptr) << "Sigmoid of one activation is a table of 256 results";
  EXPECT_EQ(std::ranges::count_if(integer.nodes(), [](const Node* n) { return n->op_type() == "TableLookup"; }), 1);
  EXPECT_EQ(integer.find_node("conv1")->input(0)->producer()->op_type(), "Pad")
      << "X's zero point (3) must pad the Conv, not 0";

  const std::vector<Tensor> expected = run(net.graph);
  const std::vector<Tensor> actual = run(integer);
  const std::vector<float> steps{0.0213f, 0.0107f, 1.0f / 255, 3.7f / 255, 2.3f / 255};
  for (std::size_t o = 0; o < expected.size(); ++o) {
    const Tensor& e = expected[o];
    const Tensor& a = actual[o];
    ASSERT_EQ(a.numel(), e.numel());
    std::int64_t equal = 0;
    double low = e.data<float>()[0], high = low;
    for (std::int64_t i = 0; i < e.numel(); ++i) {
      const float want = e.data<float>()[i], got = a.data<float>()[i];
      EXPECT_LE(std::abs(want - got), steps[o] * 1.0001f) << "output " << o << " element " << i;
      equal += want == got;
      low = std::min<double>(low, want);
      high = std::max<double>(high, want);
    }
    EXPECT_GE(static_cast<double>(equal), 0.99 * static_cast<double>(e.numel())) << "output " << o;
    EXPECT_GT(high - low, 10 * steps[o]) << "output " << o << " barely varies: the test would not see errors";
  }
}

TEST(PtqQdqToInteger, LeavesWhatItCannotComputeExactlyInFloat) {
  QdqNet net = mixed_net();
  Graph& g = net.graph;
  // Weights with a zero point have no form on Tern's integer Conv (int8 W, zero point 0):
  // conv1 stays float between its DequantizeLinear and QuantizeLinear.
  g.add_constant("w1_zero", Tensor::from(Shape{8}, DataType::Int8, std::vector<std::int8_t>(8, 5)));
  Node& dequantize = *g.value("w1").producer();
  Attributes attrs = dequantize.attrs();
  g.replace_node(dequantize, "DequantizeLinear", {dequantize.input(0), dequantize.input(1), &g.value("w1_zero")},
                 std::move(attrs));
  Graph integer = g.clone();
  ptq::qdq_to_integer(integer);
  EXPECT_EQ(integer.find_node("conv1")->input(0)->dtype(), DataType::Float32);
  EXPECT_NE(integer.find_node("conv2")->input(0)->dtype(), DataType::Float32);
  const std::vector<Tensor> expected = run(g);
  const std::vector<Tensor> actual = run(integer);
  EXPECT_LE(test::max_abs_diff(expected[0], actual[0]), 0.0213 * 1.0001);
}

TEST(PtqQdqToInteger, IsQdqTellsQdqModelsFromFloatOnes) {
  EXPECT_TRUE(ptq::is_qdq(mixed_net().graph));
  EXPECT_FALSE(ptq::is_qdq(test::relu_chain(2, 4)));
}

} // namespace
} // namespace tern
