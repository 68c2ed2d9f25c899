// What MobileNetV3, EfficientNet, DenseNet and ConvNeXt put between their convolutions,
// quantized without keep_float on a small network built here: HardSwish, HardSigmoid and
// Sigmoid become integer tables, the squeeze-excitation and SiLU products int32
// multiplications, a division by a constant and a per-channel layer scale factors of the
// Requantize, the spatial ReduceMean a pooling sum, the BatchNormalization no Conv precedes
// a depthwise Conv, a constant bias an Add in float between quantizers, and the Shape ->
// Gather -> Concat -> Reshape chain that dynamic-batch exports write stays as it is (the batch
// is dynamic), and a linear Resize blends integers. The integer graph must compute
// what the fake-quantized one computes, and both stay close to the float network.
#include "graphs.hpp"

#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace tern {
namespace {

using test::attributes;

using Ints = std::vector<std::int64_t>;

/// x[N, 3, 8, 8] -> Conv(3 -> 8, 3x3) -> HardSwish = h;
/// squeeze-excitation: ReduceMean(h, [2, 3]) -> Conv 1x1 -> Relu -> Conv 1x1 -> HardSigmoid = s; e = h * s;
/// SiLU: e * Sigmoid(e) -> / 2 -> * gamma[8, 1, 1] (a layer scale) -> BatchNormalization -> + beta[1, 8, 1, 1]
/// -> Reshape to [N, -1] by its own shape -> Gemm(512 -> 4).
Graph zoo_like_net() {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 3, 8, 8});
  graph.add_constant("w1", test::random_tensor({8, 3, 3, 3}, 51, -0.5f, 0.5f));
  graph.add_constant("b1", test::random_tensor({8}, 52, -0.1f, 0.1f));
  graph.add_constant("w_squeeze", test::random_tensor({4, 8, 1, 1}, 53));
  graph.add_constant("b_squeeze", test::random_tensor({4}, 54, -0.1f, 0.1f));
  graph.add_constant("w_excite", test::random_tensor({8, 4, 1, 1}, 55));
  graph.add_constant("b_excite", test::random_tensor({8}, 56, -0.1f, 0.1f));
  graph.add_constant("two", Tensor::from_floats(Shape{}, {2.0f}));
  graph.add_constant("gamma", test::random_tensor({8, 1, 1}, 64, 0.2f, 2.0f));
  graph.add_constant("beta", test::random_tensor({1, 8, 1, 1}, 65, -0.5f, 0.5f));
  graph.add_constant("bn_scale", test::random_tensor({8}, 57, 0.5f, 1.5f));
  graph.add_constant("bn_bias", test::random_tensor({8}, 58, -0.2f, 0.2f));
  graph.add_constant("bn_mean", test::random_tensor({8}, 59, -0.1f, 0.3f));
  graph.add_constant("bn_var", test::random_tensor({8}, 60, 0.2f, 1.0f));
  graph.add_constant("zero", Tensor::from(Shape{1}, DataType::Int64, Ints{0}));
  graph.add_constant("minus_one", Tensor::from(Shape{1}, DataType::Int64, Ints{-1}));
  graph.add_constant("w_fc", test::random_tensor({4, 512}, 61, -0.1f, 0.1f));
  graph.add_constant("b_fc", test::random_tensor({4}, 62, -0.1f, 0.1f));

  graph.add_node("Conv", {"x", "w1", "b1"}, {"c1"}, attributes({{"pads", Ints{1, 1, 1, 1}}}), "conv1");
  graph.add_node("HardSwish", {"c1"}, {"h"}, {}, "hardswish");
  graph.add_node("ReduceMean", {"h"}, {"m"}, attributes({{"axes", Ints{2, 3}}}), "mean");
  graph.add_node("Conv", {"m", "w_squeeze", "b_squeeze"}, {"q"}, {}, "squeeze");
  graph.add_node("Relu", {"q"}, {"qr"});
  graph.add_node("Conv", {"qr", "w_excite", "b_excite"}, {"u"}, {}, "excite");
  graph.add_node("HardSigmoid", {"u"}, {"s"}, {}, "hardsigmoid");
  graph.add_node("Mul", {"h", "s"}, {"e"}, {}, "se_mul");
  graph.add_node("Sigmoid", {"e"}, {"g"}, {}, "sigmoid");
  graph.add_node("Mul", {"e", "g"}, {"silu"}, {}, "silu_mul");
  graph.add_node("Div", {"silu", "two"}, {"half"}, {}, "half");
  graph.add_node("Mul", {"half", "gamma"}, {"scaled"}, {}, "layer_scale");
  graph.add_node("BatchNormalization", {"scaled", "bn_scale", "bn_bias", "bn_mean", "bn_var"}, {"bn"}, {}, "bn");
  graph.add_node("Add", {"bn", "beta"}, {"biased"}, {}, "bias_add");
  graph.add_node("Shape", {"biased"}, {"shape"}, {}, "shape");
  graph.add_node("Gather", {"shape", "zero"}, {"batch"}, {}, "batch");
  graph.add_node("Concat", {"batch", "minus_one"}, {"flat_shape"}, attributes({{"axis", std::int64_t{0}}}),
                 "flat_shape");
  graph.add_node("Reshape", {"biased", "flat_shape"}, {"flat"}, {}, "flatten");
  graph.add_node("Gemm", {"flat", "w_fc", "b_fc"}, {"y"}, attributes({{"transB", std::int64_t{1}}}), "fc");
  graph.add_output("y");
  graph.infer_shapes();
  return graph;
}

Tensor images() { return test::random_tensor({32, 3, 8, 8}, 63, 0.0f, 1.0f); }

Graph fake_quantized() {
  Graph graph = zoo_like_net();
  ptq::auto_assign_node_precision(graph, DataType::Int8, DataType::Int8, DataType::Int32);
  ptq::QuantizeOptions options;
  options.fake_quantize = true;
  ptq::quantize_network(graph, std::vector<Tensor>{images()}, options);
  return graph;
}

Tensor run(const Graph& graph, bool quantized) {
  SequentialScheduler scheduler(graph, {"cpu"});
  return scheduler.forward({quantized ? ptq::scale_input(graph, images()) : images()})[0];
}

std::size_t count(const Graph& graph, const std::string& op_type) {
  const std::vector<Node*> nodes = graph.nodes();
  return static_cast<std::size_t>(
      std::count_if(nodes.begin(), nodes.end(), [&](const Node* n) { return n->op_type() == op_type; }));
}

/// Signal-to-quantization-noise ratio of `quantized` against `reference`, in dB.
double sqnr_db(const Tensor& reference, const Tensor& quantized) {
  double signal = 0, noise = 0;
  for (std::int64_t i = 0; i < reference.numel(); ++i) {
    const double r = reference.data<float>()[i];
    signal += r * r;
    noise += (r - quantized.data<float>()[i]) * (r - quantized.data<float>()[i]);
  }
  return 10.0 * std::log10(signal / noise);
}

TEST(PtqQuantizedFunctions, EveryNodeQuantizesAndTheIntegerGraphComputesTheFakeOnesResults) {
  const Graph fake = fake_quantized();
  Graph integer = fake.clone();
  ptq::cast_to_integer(integer, ptq::QuantizeOptions{});

  // The three functions are tables on 8-bit integers; none of them is left in float.
  EXPECT_EQ(count(integer, "TableLookup"), 3u);
  for (const char* op : {"HardSwish", "HardSigmoid", "Sigmoid", "Div"}) EXPECT_EQ(count(integer, op), 0u) << op;
  // The division by 2 and the layer scale are (per-channel) factors of Requantizes.
  EXPECT_EQ(integer.find_node("half"), nullptr);
  EXPECT_EQ(integer.find_node("layer_scale"), nullptr);
  for (const char* product : {"se_mul", "silu_mul"})
    EXPECT_EQ(integer.find_node(product)->output()->dtype(), DataType::Int32) << product;
  EXPECT_EQ(integer.find_node("bn")->op_type(), "Conv");
  EXPECT_EQ(integer.find_node("bn")->input(0)->dtype(), DataType::Int8);
  EXPECT_EQ(integer.find_node("mean")->op_type(), "Conv") << "the spatial mean is a window sum";
  // Adding a constant tensor has no integer form: it adds in float between quantizers.
  EXPECT_EQ(integer.find_node("bias_add")->output()->dtype(), DataType::Float32);
  EXPECT_EQ(integer.find_node("flatten")->input(0)->dtype(), DataType::Int8);
  EXPECT_EQ(integer.find_node("flat_shape")->output()->dtype(), DataType::Int64) << "shape arithmetic untouched";
  EXPECT_EQ(count(integer, "Cast"), 6u)
      << "each product's two operands to int32, the bias Add's and the logits' to float";

  const Tensor reference = run(zoo_like_net(), false);
  const Tensor fake_output = run(fake, true);
  EXPECT_EQ(test::max_abs_diff(fake_output, run(integer, true)), 0.0);
  // Eleven quantized steps at 8 bits: well above the ~25 dB of 4 bits.
  EXPECT_GT(sqnr_db(reference, fake_output), 30.0);
}

/// x[N, 3, 8, 8] -> two Conv branches of very different ranges -> Concat -> Pad by 1 -> MaxPool
/// -> Conv -> y: the Concat joins differently scaled integers, and the Pad fills zeros.
Graph concat_net() {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 3, 8, 8});
  graph.add_constant("wa", test::random_tensor({4, 3, 3, 3}, 71, -0.1f, 0.1f));
  graph.add_constant("wb", test::random_tensor({4, 3, 1, 1}, 72, -2.0f, 2.0f));
  graph.add_constant("wc", test::random_tensor({2, 8, 3, 3}, 73, -0.5f, 0.5f));
  graph.add_node("Conv", {"x", "wa"}, {"a"}, attributes({{"pads", Ints{1, 1, 1, 1}}}), "branch_a");
  graph.add_node("Conv", {"x", "wb"}, {"b"}, {}, "branch_b");
  graph.add_node("Concat", {"a", "b"}, {"ab"}, attributes({{"axis", std::int64_t{1}}}), "concat");
  graph.add_constant("pads", Tensor::from(Shape{8}, DataType::Int64, Ints{0, 0, 1, 1, 0, 0, 1, 1}));
  graph.add_node("Pad", {"ab", "pads"}, {"padded"}, {}, "pad");
  graph.add_node("MaxPool", {"padded"}, {"pooled"}, attributes({{"kernel_shape", Ints{2, 2}}}), "pool");
  graph.add_node("Conv", {"pooled", "wc"}, {"y"}, {}, "head");
  graph.add_output("y");
  graph.infer_shapes();
  return graph;
}

TEST(PtqQuantizedFunctions, TheQdqFormComputesWhatTheIntegerGraphComputes) {
  // Tables, products, per-channel rescales, a window-sum mean, a float island, and a Concat of
  // differently scaled branches with a Pad after it: the QDQ graph, run as ONNX defines
  // QuantizeLinear and DequantizeLinear on the float input, must give the integer graph's
  // results but for two things by design: float rounding of exact ties (an average's) and
  // uint8's wider saturation (Tern clamps at -127 and, where QDQ's zero point is 0, at 127).
  for (Graph (*build)() : {&zoo_like_net, &concat_net}) {
    Graph graph = build();
    const Tensor reference = run(graph, false);
    ptq::auto_assign_node_precision(graph, DataType::Int8, DataType::Int8, DataType::Int32);
    ptq::QuantizeOptions options;
    options.fake_quantize = true;
    ptq::quantize_network(graph, std::vector<Tensor>{images()}, options);
    Graph integer = graph.clone();
    ptq::cast_to_integer(integer, options);
    Graph qdq = graph.clone();
    ptq::to_qdq(qdq, options);
    for (const char* op : {"Requantize", "TableLookup", "FineSum"}) EXPECT_EQ(count(qdq, op), 0u) << op;
    EXPECT_GT(count(qdq, "DequantizeLinear"), 0u);

    const Tensor expected = run(integer, true);
    const Tensor actual = run(qdq, false);
    ASSERT_EQ(actual.shape(), expected.shape());
    // Measured 69 and 136 dB; a wrong table, zero point or Concat scale costs tens of dB.
    EXPECT_GT(sqnr_db(expected, actual), 50.0);
    EXPECT_NEAR(sqnr_db(reference, actual), sqnr_db(reference, expected), 0.1) << "as close to float as Tern's";
  }
  // The zoo-like network's three tables are Gathers of uint8 tables.
  Graph qdq = fake_quantized();
  ptq::to_qdq(qdq, ptq::QuantizeOptions{});
  EXPECT_EQ(count(qdq, "Gather"), 4u) << "three tables and the Shape chain's";
}

TEST(PtqQuantizedFunctions, TheQdqWriterNeedsTheStepsQuantizeNetworkRecorded) {
  // A fake-quantized graph read back from a file has lost them: a one-line error says so.
  Graph graph = fake_quantized();
  for (Node* node : graph.nodes()) node->meta() = Attributes{};
  try {
    ptq::to_qdq(graph, ptq::QuantizeOptions{});
    FAIL() << "to_qdq wrote a graph without steps";
  } catch (const Error& error) {
    const std::string text = error.what();
    EXPECT_NE(text.find("quantization.ptq.step"), std::string::npos) << text;
    EXPECT_NE(text.find("quantize the float model again"), std::string::npos) << text;
    EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  }
}

TEST(PtqQuantizedFunctions, AnOperatorWithoutIntegerFormIsNamedAndKeptInFloatOnlyWhenAsked) {
  const auto hardmax_net = [] {
    Graph graph = zoo_like_net();
    graph.replace_node(*graph.find_node("hardswish"), "Hardmax", {graph.find_value("c1")},
                       attributes({{"axis", std::int64_t{1}}}));
    graph.infer_shapes();
    ptq::auto_assign_node_precision(graph, DataType::Int8, DataType::Int8, DataType::Int32);
    return graph;
  };
  Graph refused = hardmax_net();
  try {
    ptq::quantize_network(refused, std::vector<Tensor>{images()}, ptq::QuantizeOptions{});
    ADD_FAILURE() << "expected tern::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot quantize 1 node(s): 'hardswish' (Hardmax)"), std::string::npos)
        << e.what();
  }
  Graph fake = hardmax_net();
  ptq::QuantizeOptions options;
  options.fake_quantize = true;
  options.keep_float = true;
  ptq::quantize_network(fake, std::vector<Tensor>{images()}, options);
  Graph integer = fake.clone();
  ptq::cast_to_integer(integer, ptq::QuantizeOptions{});
  EXPECT_EQ(count(integer, "TableLookup"), 2u) << "HardSigmoid, Sigmoid";
  EXPECT_EQ(test::max_abs_diff(run(fake, true), run(integer, true)), 0.0);
}

/// x[N, 3, 8, 8] -> Conv(3 -> 4, 3x3, pad 1) -> Resize 2x (linear, half_pixel) -> Conv(4 -> 2, 3x3) = y:
/// the upsampling of segmentation decoders.
Graph upsampling_net() {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 3, 8, 8});
  graph.add_constant("w1", test::random_tensor({4, 3, 3, 3}, 71, -0.5f, 0.5f));
  graph.add_constant("w2", test::random_tensor({2, 4, 3, 3}, 72, -0.5f, 0.5f));
  graph.add_constant("scales", Tensor::from_floats(Shape{4}, {1, 1, 2, 2}));
  graph.add_node("Conv", {"x", "w1"}, {"c1"}, attributes({{"pads", Ints{1, 1, 1, 1}}}), "conv1");
  graph.add_node("Resize", {"c1", "", "scales"}, {"up"}, attributes({{"mode", std::string("linear")}}), "upsample");
  graph.add_node("Conv", {"up", "w2"}, {"y"}, {}, "conv2");
  graph.add_output("y");
  graph.infer_shapes();
  return graph;
}

TEST(PtqQuantizedFunctions, LinearResizeBlendsIntegersOnItsInputsScale) {
  Graph fake = upsampling_net();
  ptq::auto_assign_node_precision(fake, DataType::Int8, DataType::Int8, DataType::Int32);
  ptq::QuantizeOptions options;
  options.fake_quantize = true;
  ptq::quantize_network(fake, std::vector<Tensor>{images()}, options);
  Graph integer = fake.clone();
  ptq::cast_to_integer(integer, ptq::QuantizeOptions{});
  const Node& upsample = *integer.find_node("upsample");
  EXPECT_EQ(upsample.input(0)->dtype(), DataType::Int8);
  EXPECT_EQ(upsample.output()->dtype(), DataType::Int8) << "blended and rounded in 8 bits, not a float island";

  EXPECT_EQ(test::max_abs_diff(run(fake, true), run(integer, true)), 0.0);
  EXPECT_GT(sqnr_db(run(upsampling_net(), false), run(fake, true)), 30.0);

  // QDQ: a float Resize between DequantizeLinear and a QuantizeLinear of the input's scale.
  Graph qdq = fake.clone();
  ptq::to_qdq(qdq, options);
  const Node& resize = *qdq.find_node("upsample");
  EXPECT_EQ(resize.input(0)->producer()->op_type(), "DequantizeLinear");
  const std::vector<Node*> readers = qdq.consumers(*resize.output());
  ASSERT_EQ(readers.size(), 1u);
  EXPECT_EQ(readers[0]->op_type(), "QuantizeLinear");
  EXPECT_EQ(readers[0]->input(1)->constant()->to_doubles(),
            resize.input(0)->producer()->input(1)->constant()->to_doubles());
}

/// x[N, 3, 8, 8] -> Conv(3 -> 4, 3x3, pad 1) -> Relu -> ConvTranspose(4 -> M, 3x3, stride 2, pad 1,
/// output_padding 1, bias, `group`) -> Conv(M -> 2, 3x3) = y: a learned 2x upsampling; M is 3
/// with one group, 4 with two.
Graph transposed_net(std::int64_t group) {
  const std::int64_t m = group == 1 ? 3 : 4;
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 3, 8, 8});
  graph.add_constant("w1", test::random_tensor({4, 3, 3, 3}, 81, -0.5f, 0.5f));
  graph.add_constant("wt", test::random_tensor({4, m / group, 3, 3}, 82, -0.5f, 0.5f));
  graph.add_constant("bt", test::random_tensor({m}, 83, -0.2f, 0.2f));
  graph.add_constant("w2", test::random_tensor({2, m, 3, 3}, 84, -0.5f, 0.5f));
  graph.add_node("Conv", {"x", "w1"}, {"c1"}, attributes({{"pads", Ints{1, 1, 1, 1}}}), "conv1");
  graph.add_node("Relu", {"c1"}, {"r1"});
  graph.add_node(
      "ConvTranspose", {"r1", "wt", "bt"}, {"up"},
      attributes(
          {{"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}, {"output_padding", Ints{1, 1}}, {"group", group}}),
      "upconv");
  graph.add_node("Conv", {"up", "w2"}, {"y"}, {}, "conv2");
  graph.add_output("y");
  graph.infer_shapes();
  return graph;
}

TEST(PtqQuantizedFunctions, ConvTransposeIsAnAffineLayerWithPerChannelWeightsAlongItsSecondAxis) {
  for (const std::int64_t group : {1, 2}) {
    for (const bool per_channel : {false, true}) {
      SCOPED_TRACE("group " + std::to_string(group) + (per_channel ? ", per channel" : ", per tensor"));
      Graph fake = transposed_net(group);
      ptq::auto_assign_node_precision(fake, DataType::Int8, DataType::Int8, DataType::Int32);
      ptq::QuantizeOptions options;
      options.fake_quantize = true;
      options.per_channel = per_channel;
      ptq::quantize_network(fake, std::vector<Tensor>{images()}, options);
      Graph integer = fake.clone();
      ptq::cast_to_integer(integer, options);
      const Node& upconv = *integer.find_node("upconv");
      EXPECT_EQ(upconv.input(0)->dtype(), DataType::Int8);
      EXPECT_EQ(upconv.input(1)->dtype(), DataType::Int8);
      EXPECT_EQ(upconv.output()->dtype(), DataType::Int32);

      EXPECT_EQ(test::max_abs_diff(run(fake, true), run(integer, true)), 0.0);
      EXPECT_GT(sqnr_db(run(transposed_net(group), false), run(fake, true)), 30.0);

      Graph qdq = fake.clone();
      ptq::to_qdq(qdq, options);
      const Node& weights = *qdq.find_node("upconv")->input(1)->producer();
      EXPECT_EQ(weights.op_type(), "DequantizeLinear");
      // Grouped, W's axis 1 holds one group's channels: one scale for all.
      const bool channels = per_channel && group == 1;
      EXPECT_EQ(weights.input(1)->constant()->numel(), channels ? 3 : 1);
      if (channels) {
        EXPECT_EQ(weights.attr<std::int64_t>("axis"), 1) << "W is [C, M, kh, kw]";
      }
    }
  }
}

} // namespace
} // namespace tern
