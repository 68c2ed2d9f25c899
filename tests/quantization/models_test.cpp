// The example models quantized end to end on Fashion-MNIST: integer execution agrees with
// fake quantization, every option combination keeps 8-bit accuracy, no_quant keeps float.
#include <tern/tern.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <fstream>

namespace tern {
namespace {

std::string model_path(const std::string& name) {
  return std::string(TERN_SOURCE_DIR) + "/sdk/examples/models/" + name + ".onnx";
}

const Dataset& test_images() {
  static const Dataset images = open_dataset("fashion-mnist", "test").first(1000);
  return images;
}

const Dataset& calibration_images() {
  static const Dataset images = open_dataset("fashion-mnist", "train").first(100);
  return images;
}

/// `name` quantized, then prepared for inference unless `prepared` is false (the form the
/// PTQ's later passes, cast_to_integer and to_qdq, take).
Graph quantized_model(const std::string& name, ptq::QuantizeOptions options, DataType bits = DataType::Int8,
                      bool prepared = true) {
  Graph graph = load_model(model_path(name));
  ptq::auto_assign_node_precision(graph, bits, bits, bits == DataType::Int8 ? DataType::Int32 : DataType::Int16);
  ptq::quantize_network(graph, calibration_images(), options);
  if (prepared) prepare_for_inference(graph);
  return graph;
}

/// Logits of every test image, batch by batch.
std::vector<Tensor> logits(const Graph& graph) {
  SequentialScheduler scheduler(graph, {"cpu"});
  std::vector<Tensor> result;
  for (std::size_t begin = 0; begin < test_images().size(); begin += 100)
    result.push_back(scheduler.forward({ptq::scale_input(graph, test_images().batch(begin, 100))})[0]);
  return result;
}

std::vector<std::int64_t> predictions(const std::vector<Tensor>& batches) {
  std::vector<std::int64_t> classes;
  for (const Tensor& batch : batches) {
    const std::vector<double> values = batch.to_doubles();
    const std::int64_t width = batch.shape()[1];
    for (std::int64_t row = 0; row < batch.shape()[0]; ++row) {
      const auto begin = values.begin() + row * width;
      classes.push_back(std::max_element(begin, begin + width) - begin);
    }
  }
  return classes;
}

double accuracy(const Graph& graph) {
  const std::vector<std::int64_t> classes = predictions(logits(graph));
  std::size_t correct = 0;
  for (std::size_t i = 0; i < classes.size(); ++i) correct += classes[i] == test_images().labels()[i];
  return static_cast<double>(correct) / static_cast<double>(classes.size());
}

double float_accuracy(const std::string& name) {
  static std::map<std::string, double> cache;
  if (!cache.contains(name)) cache[name] = accuracy(load_for_inference(model_path(name)));
  return cache[name];
}

TEST(PtqModels, IntegerConvNetAgreesWithFakeQuantization) {
  ptq::QuantizeOptions options;
  options.clipping_mode = ptq::Clipping::MSE;
  options.fake_quantize = true;
  const Graph fake = quantized_model("convnet", options);
  options.fake_quantize = false;
  const Graph integer = quantized_model("convnet", options);
  // The integer graph really holds integers: int8 weights and int8/uint8 activations.
  std::size_t int8_constants = 0;
  for (const Value* constant : integer.constants()) int8_constants += constant->constant()->dtype() == DataType::Int8;
  EXPECT_GE(int8_constants, 4u);

  const std::vector<Tensor> fake_logits = logits(fake), integer_logits = logits(integer);
  EXPECT_EQ(predictions(fake_logits), predictions(integer_logits));
  // The same integers, dequantized the same way: equal outputs (within one step is the
  // promise; the arithmetic is bit-identical while accumulators stay below 2^24).
  for (std::size_t b = 0; b < fake_logits.size(); ++b)
    EXPECT_EQ(fake_logits[b].to_doubles(), integer_logits[b].to_doubles()) << b;
  EXPECT_GE(accuracy(integer), float_accuracy("convnet") - 0.003);
}

/// Fails unless every value `graph` computes is an integer, except the logits' final
/// dequantization (Cast to float32, then Mul by the rescale into the graph output).
void expect_integers_up_to_the_output(Graph& graph) {
  graph.infer_shapes();
  for (const Node* node : graph.nodes()) {
    if (graph.is_output(*node->output()) && node->op_type() == "Mul") continue;
    if (node->op_type() == "Cast") {
      const std::vector<Node*> readers = graph.consumers(*node->output());
      if (readers.size() == 1 && graph.is_output(*readers[0]->output())) continue;
    }
    EXPECT_NE(node->output()->dtype(), DataType::Float32) << node->describe() << " computes in float";
  }
}

/// The largest |value| of a constant.
double largest_magnitude(const Tensor& tensor) {
  double largest = 0.0;
  for (const double v : tensor.to_doubles()) largest = std::max(largest, std::abs(v));
  return largest;
}

/// Residual Adds (resnet_tiny) and global average pooling (both models) run on integers and
/// agree with the fake-quantized graph but for rare near-ties of rounding: the float graph
/// rounds each product (and the average) to float32 before the quantizer rounds to an
/// integer, the integer one rounds once. A tie decided the other way moves one int8
/// activation by one unit, so the logits then differ by at most one unit of the
/// classifier's input: its largest |weight| output steps.
TEST(PtqModels, IntegerResidualAndPoolingAgreeWithFakeQuantization) {
  for (const std::string model : {"resnet_tiny", "mobilenet_tiny"}) {
    ptq::QuantizeOptions options;
    options.clipping_mode = ptq::Clipping::MSE;
    options.fake_quantize = true;
    const Graph fake = quantized_model(model, options);
    options.fake_quantize = false;
    Graph integer = quantized_model(model, options);
    expect_integers_up_to_the_output(integer);

    // logits = Cast(classifier's int32 accumulation) * step.
    const Node* dequantize = integer.outputs()[0]->producer();
    ASSERT_EQ(dequantize->op_type(), "Mul") << model;
    const Node* classifier = dequantize->input(0)->producer()->input(0)->producer();
    const double step = largest_magnitude(*dequantize->input(1)->constant());
    const double one_input_unit = step * largest_magnitude(*classifier->input(1)->constant());

    const std::vector<Tensor> fake_logits = logits(fake), integer_logits = logits(integer);
    const std::vector<std::int64_t> fake_classes = predictions(fake_logits);
    const std::vector<std::int64_t> integer_classes = predictions(integer_logits);
    std::size_t same_class = 0, same_logits = 0;
    for (std::size_t i = 0; i < fake_classes.size(); ++i) same_class += fake_classes[i] == integer_classes[i];
    double largest = 0.0;
    for (std::size_t b = 0; b < fake_logits.size(); ++b) {
      const std::vector<double> f = fake_logits[b].to_doubles(), q = integer_logits[b].to_doubles();
      const auto width = static_cast<std::size_t>(fake_logits[b].shape()[1]);
      for (std::size_t row = 0; row < f.size(); row += width)
        same_logits += std::equal(f.begin() + row, f.begin() + row + width, q.begin() + row);
      for (std::size_t i = 0; i < f.size(); ++i) largest = std::max(largest, std::abs(f[i] - q[i]));
    }
    const auto images = static_cast<double>(fake_classes.size());
    // Measured: resnet_tiny 100 % equal logits; mobilenet_tiny 98.9 % (11 images, all one
    // window sum whose average lands 2e-6 below a half), 100 % equal predictions.
    EXPECT_GE(static_cast<double>(same_class) / images, 0.999) << model;
    EXPECT_GE(static_cast<double>(same_logits) / images, 0.98) << model;
    EXPECT_LE(largest, one_input_unit) << model;
  }
}

/// Each example model under every combination of optimize_signs × single_shift ×
/// fold_graph × fake_quantize at 8 bits (MSE clipping, as the seed); and no_quant.
/// 10·log10(Σx² / Σ(x − y)²) over every element of the batches: the definition, by hand.
double sqnr_db(const std::vector<Tensor>& reference, const std::vector<Tensor>& measured) {
  double signal = 0.0, noise = 0.0;
  for (std::size_t b = 0; b < reference.size(); ++b) {
    const std::vector<double> x = reference[b].to_doubles(), y = measured[b].to_doubles();
    for (std::size_t i = 0; i < x.size(); ++i) {
      signal += x[i] * x[i];
      noise += (x[i] - y[i]) * (x[i] - y[i]);
    }
  }
  return 10.0 * std::log10(signal / noise);
}

// The per-layer report: the network SQNR of the output layer equals the SQNR of the logits
// computed by hand from the float and quantized models, and 4 bits cost every node at least
// 12 dB against 8 bits (about 6 dB a bit).
TEST(PtqModels, QualityReportMatchesTheLogitsSqnrAndFollowsTheBitWidth) {
  ptq::QuantizeOptions options;
  options.fake_quantize = true;
  const Graph float_model = load_model(model_path("convnet"));
  Graph eight = load_model(model_path("convnet"));
  ptq::auto_assign_node_precision(eight, DataType::Int8, DataType::Int8, DataType::Int32);
  ptq::quantize_network(eight, calibration_images(), options);
  const std::vector<ptq::NodeQuality> report8 = ptq::measure_quality(float_model, eight, calibration_images(), options);
  Graph four = load_model(model_path("convnet"));
  ptq::auto_assign_node_precision(four, DataType::Int4, DataType::Int4, DataType::Int16);
  ptq::quantize_network(four, calibration_images(), options);
  const std::vector<ptq::NodeQuality> report4 = ptq::measure_quality(float_model, four, calibration_images(), options);

  ASSERT_EQ(report8.size(), 4u);
  ASSERT_EQ(report4.size(), report8.size());
  for (std::size_t i = 0; i < report8.size(); ++i) {
    EXPECT_EQ(report8[i].node, report4[i].node);
    EXPECT_GT(report8[i].sqnr_alone_db, report4[i].sqnr_alone_db + 12.0) << report8[i].node;
    // The classifier's output keeps the accumulation precision (int32, int16 at 4 bits).
    const bool output = i + 1 == report8.size();
    EXPECT_EQ(report8[i].precision, output ? "int32" : "int8");
    EXPECT_EQ(report4[i].precision, output ? "int16" : "int4");
  }

  SequentialScheduler float_run(float_model, {"cpu"}), quantized_run(eight, {"cpu"});
  std::vector<Tensor> reference, measured;
  for (std::size_t begin = 0; begin < calibration_images().size(); begin += 50) {
    const Tensor batch = calibration_images().batch(begin, 50);
    reference.push_back(float_run.forward({batch})[0]);
    measured.push_back(quantized_run.forward({ptq::scale_input(eight, batch)})[0]);
  }
  const ptq::NodeQuality& logits = report8.back(); // the classifier: the network's output
  EXPECT_EQ(logits.node, "/fc2/Gemm");
  EXPECT_NEAR(logits.sqnr_network_db, sqnr_db(reference, measured), 0.05);
}

/// The real value of one step of `value` in a fake-quantized graph: the scale recorded on the
/// node whose quantizer made it (through Flatten, pooling, Clip), or the input's.
double step_in(const Graph& graph, const Value* value) {
  while (!graph.is_input(*value)) {
    const Node* producer = value->producer();
    if (producer->meta().has("quantization.ptq.scale"))
      return std::stod(producer->meta().get<std::string>("quantization.ptq.scale"));
    value = producer->input(0);
  }
  return 1.0 / static_cast<double>(ptq::input_scaling(graph).scale);
}

/// Σ over the calibration images and output channels of ((W̃ − W) x + b̃ − b)², a Gemm's
/// output error with its quantized weights and bias in real units, by a plain loop.
double gemm_output_error(const Graph& prepared, const Graph& quantized, const std::string& name,
                         const std::vector<double>& inputs) {
  const Node& reference = *prepared.find_node(name);
  const Node& node = *quantized.find_node(name);
  const std::vector<double> w = reference.input(1)->constant()->to_doubles(),
                            b = reference.input(2)->constant()->to_doubles(),
                            w_q = node.input(1)->constant()->to_doubles(),
                            b_q = node.input(2)->constant()->to_doubles();
  const Node& rescale_node = *quantized.consumers(*node.output())[0];
  EXPECT_EQ(rescale_node.op_type(), "Mul");
  const std::vector<double> rescale = rescale_node.input(1)->constant()->to_doubles();
  // An output layer is only dequantized: its accumulator times the rescale is real already.
  const bool output = quantized.is_output(*rescale_node.output());
  const double s_out = output ? 1.0 : std::stod(node.meta().get<std::string>("quantization.ptq.scale"));
  const double s_in = step_in(quantized, node.input(0));
  const bool transposed = node.attr<std::int64_t>("transB") != 0;
  const std::size_t channels = b.size(), depth = w.size() / channels;
  double error = 0.0;
  for (std::size_t image = 0; image < inputs.size() / depth; ++image)
    for (std::size_t c = 0; c < channels; ++c) {
      const double r = rescale[rescale.size() == 1 ? 0 : c];
      double e = b_q[c] * r * s_out - b[c];
      for (std::size_t k = 0; k < depth; ++k) {
        const std::size_t i = transposed ? c * depth + k : k * channels + c;
        e += (w_q[i] * r * s_out / s_in - w[i]) * inputs[image * depth + k];
      }
      error += e * e;
    }
  return error;
}

// AdaRound at W4A8 per channel on the convnet: each classifier layer's output error on the
// calibration images is lower than with rounding to nearest, and accuracy holds.
TEST(PtqModels, AdaRoundLowersTheLayerErrorAndKeepsAccuracy) {
  ptq::QuantizeOptions options; // as tern quantize --per-channel
  options.clipping_mode = ptq::Clipping::MSE;
  options.per_channel = true;
  options.fake_quantize = true;
  const Graph float_model = load_model(model_path("convnet"));
  Graph nearest = float_model.clone();
  ptq::auto_assign_node_precision(nearest, DataType::Int4, DataType::Int8, DataType::Int32);
  ptq::quantize_network(nearest, calibration_images(), options);
  Graph adapted = nearest.clone();
  ptq::AdaRoundOptions ada;
  ada.iterations = 1000;
  std::size_t reported = 0;
  ada.progress = [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(done, reported + 1);
    EXPECT_EQ(total, 4u);
    reported = done;
  };
  EXPECT_EQ(ptq::adaround(float_model, adapted, calibration_images(), options, ada), 4u);
  EXPECT_EQ(reported, 4u);

  Graph prepared = float_model.clone();
  ptq::prepare_network(prepared, options);
  prepared.infer_shapes();
  std::size_t gemms = 0;
  for (const Node* node : nearest.nodes()) {
    if (node->op_type() != "Gemm") continue;
    ++gemms;
    Graph probed = prepared.clone();
    const std::string input = prepared.find_node(node->name())->input(0)->name();
    probed.add_output(input);
    SequentialScheduler run(probed, {"cpu"});
    const std::vector<double> x = run.forward({calibration_images().batch(0, 100)}).back().to_doubles();
    const double before = gemm_output_error(prepared, nearest, node->name(), x);
    const double after = gemm_output_error(prepared, adapted, node->name(), x);
    EXPECT_LT(after, before) << node->name();
    std::printf("%s: output error %.6g (nearest) -> %.6g (AdaRound)\n", node->name().c_str(), before, after);
  }
  EXPECT_EQ(gemms, 2u);

  prepare_for_inference(nearest);
  prepare_for_inference(adapted);
  const double rtn = accuracy(nearest), learnt = accuracy(adapted);
  std::printf("accuracy: nearest %.4f, AdaRound %.4f\n", rtn, learnt);
  EXPECT_GE(learnt, rtn - 0.003);
}

class PtqEveryModel : public ::testing::TestWithParam<std::string> {};

TEST_P(PtqEveryModel, EveryOptionCombinationKeepsEightBitAccuracy) {
  const double reference = float_accuracy(GetParam());
  for (int bits = 0; bits < 16; ++bits) {
    ptq::QuantizeOptions options;
    options.clipping_mode = ptq::Clipping::MSE;
    options.optimize_signs = (bits & 1) != 0;
    options.single_shift = (bits & 2) != 0;
    options.fold_graph = (bits & 4) != 0;
    options.fake_quantize = (bits & 8) != 0;
    const double quantized = accuracy(quantized_model(GetParam(), options));
    EXPECT_GE(quantized, reference - 0.005)
        << "optimize_signs " << options.optimize_signs << ", single_shift " << options.single_shift << ", fold_graph "
        << options.fold_graph << ", fake_quantize " << options.fake_quantize;
  }
}

/// Every clipping mode, per tensor and per channel, at W8A8: within half a point of float on
/// the 1,000 test images, MSE (the default) within a tenth of a point. KL once fell to 53 %
/// on resnet_tiny and 29 % on mobilenet_tiny here (the histogram's zero spike; see
/// clipping/kl.cpp) and no test ran it.
TEST_P(PtqEveryModel, EveryClippingModeKeepsEightBitAccuracy) {
  const double reference = float_accuracy(GetParam());
  for (const ptq::Clipping mode :
       {ptq::Clipping::Max, ptq::Clipping::MSE, ptq::Clipping::AA, ptq::Clipping::KL, ptq::Clipping::Percentile})
    for (const bool per_channel : {false, true}) {
      ptq::QuantizeOptions options;
      options.clipping_mode = mode;
      options.per_channel = per_channel;
      // 1e-9: a drop of exactly 5 images (1 for MSE) of 1,000 is within the bound.
      const double allowed = mode == ptq::Clipping::MSE ? 0.001 : 0.005;
      EXPECT_GE(accuracy(quantized_model(GetParam(), options)), reference - allowed - 1e-9)
          << ptq::name(mode) << (per_channel ? ", per channel" : ", per tensor");
    }
}

TEST_P(PtqEveryModel, NoQuantKeepsTheFloatAccuracy) {
  ptq::QuantizeOptions options;
  options.no_quant = true;
  EXPECT_NEAR(accuracy(quantized_model(GetParam(), options)), float_accuracy(GetParam()), 0.0005);
}

/// PyTorch's W4A4 fake-quant accuracy (all layers, per-channel weights) on all 10,000 test
/// images, as the peer script recorded it.
double pytorch_w4a4(const std::string& model) {
  std::ifstream file(std::string(TERN_SOURCE_DIR) + "/sdk/examples/models/peers/results/pytorch_" + model + ".json");
  const nlohmann::json results = nlohmann::json::parse(file);
  for (const auto& row : results["rows"])
    if (row["config"].get<std::string>().starts_with("fake-quant W4A4")) return row["quant_acc"].get<double>();
  ADD_FAILURE() << "no W4A4 row for " << model;
  return 1.0;
}

TEST_P(PtqEveryModel, FourBitPerChannelBeatsPyTorchsFourBitFakeQuant) {
  ptq::QuantizeOptions options;
  options.clipping_mode = ptq::Clipping::MSE;
  options.fake_quantize = true;
  options.per_channel = true;
  // 1,000 images here against PyTorch's 10,000: a margin of 1 point covers the sampling.
  EXPECT_GT(accuracy(quantized_model(GetParam(), options, DataType::Int4)), pytorch_w4a4(GetParam()) + 0.01);
}

// The QDQ form (QuantizeLinear/DequantizeLinear around float ops) of the integer network:
// Tern's own QuantizeLinear/DequantizeLinear kernels run it on the raw float input, and it
// classifies the test images as the integer graph does (the two round differently in rare
// ties, and QDQ widens the upper clamp of non-negative outputs to the uint8 range).
TEST_P(PtqEveryModel, QdqFormClassifiesAsTheIntegerGraph) {
  ptq::QuantizeOptions options;
  options.fake_quantize = true;
  const Graph fake = quantized_model(GetParam(), options, DataType::Int8, /*prepared=*/false);
  Graph integer = fake.clone();
  ptq::cast_to_integer(integer);
  prepare_for_inference(integer);
  Graph qdq = fake.clone();
  ptq::to_qdq(qdq);

  EXPECT_FALSE(ptq::is_quantized(qdq)) << "the QDQ graph takes the float input as it is";
  std::map<std::string, int> ops;
  for (const Node* node : qdq.nodes()) ++ops[node->op_type()];
  EXPECT_EQ(ops.count("Requantize") + ops.count("Round") + ops.count("Clip"), 0u);
  EXPECT_GE(ops["QuantizeLinear"], 3);
  EXPECT_GE(ops["DequantizeLinear"], 6);
  for (const Value* constant : qdq.constants())
    if (constant->constant()->numel() > 64) { // weights: int8; biases: int32
      EXPECT_TRUE(constant->constant()->dtype() == DataType::Int8 || constant->constant()->dtype() == DataType::Int32)
          << constant->name() << " is " << name(constant->constant()->dtype());
    }

  SequentialScheduler scheduler(qdq, {"cpu"});
  std::vector<std::int64_t> qdq_classes;
  for (std::size_t begin = 0; begin < test_images().size(); begin += 100) {
    const std::vector<std::int64_t> batch = predictions({scheduler.forward({test_images().batch(begin, 100)})[0]});
    qdq_classes.insert(qdq_classes.end(), batch.begin(), batch.end());
  }
  const std::vector<std::int64_t> integer_classes = predictions(logits(integer));
  std::size_t same = 0;
  for (std::size_t i = 0; i < qdq_classes.size(); ++i) same += qdq_classes[i] == integer_classes[i];
  EXPECT_GE(static_cast<double>(same) / static_cast<double>(qdq_classes.size()), 0.99);
}

// Automatic mixed precision at W4A4 per-channel, a quarter of the MACs allowed at 8 bits:
// within 2 points of float (issue 12's bar), by promotions that each raised the output SQNR.
TEST_P(PtqEveryModel, MixedPrecisionAtFourBitsStaysWithinTwoPointsOfFloat) {
  ptq::QuantizeOptions options; // as tern quantize --per-channel --mixed-precision
  options.clipping_mode = ptq::Clipping::MSE;
  options.per_channel = true;
  Graph graph = load_model(model_path(GetParam()));
  const ptq::MixedPrecision mixed =
      ptq::quantize_mixed_precision(graph, calibration_images(), {DataType::Int4, DataType::Int4, DataType::Int16},
                                    {DataType::Int8, DataType::Int8, DataType::Int32}, 0.25, options);
  EXPECT_FALSE(mixed.promoted.empty());
  EXPECT_LE(mixed.mac_fraction, 0.25);
  EXPECT_GT(mixed.sqnr_db, mixed.sqnr_low_db);
  prepare_for_inference(graph);
  EXPECT_GE(accuracy(graph), float_accuracy(GetParam()) - 0.02);
}

// --reduce-range (with --optimize-signs, as CPUs without VNNI want it): every weight of the
// integer graph within ±63, each Conv/Gemm reading uint8 runs on oneDNN's int8 primitives
// (exact on every CPU then), and W8A8 stays within half a point of float.
TEST_P(PtqEveryModel, ReduceRangeKeepsWeightsWithinSevenBits) {
  ptq::QuantizeOptions options;
  options.clipping_mode = ptq::Clipping::MSE;
  options.optimize_signs = true;
  options.reduce_range = true;
  const Graph graph = quantized_model(GetParam(), options);
  std::size_t affine = 0;
  for (const Node* node : graph.nodes()) {
    const bool affine_node =
        node->op_type() == "Conv" || node->op_type() == "ConvChannelsLast" || node->op_type() == "Gemm";
    if (!affine_node) continue;
    const Tensor& weights = *node->input(1)->constant();
    ASSERT_EQ(weights.dtype(), DataType::Int8) << node->name();
    for (const std::int64_t w : weights.to_int64s()) ASSERT_LE(std::abs(w), 63) << node->name();
    ++affine;
  }
  EXPECT_GE(affine, 3u);
  SequentialScheduler scheduler(graph, {"cpu"});
  // A 1x1 Conv with strides and explicit pads runs natively (oneDNN 2.6's int8 kernel for it
  // raced on two threads: backends/cpu/dnnl/integer_support.cpp); the check leaves every
  // strided 1x1 Conv out (resnet_tiny's projections, without pads, run on oneDNN).
  const auto strided_pointwise = [](const Node& node) {
    const Shape& w = node.input(1)->shape();
    return node.op_type() != "Gemm" && w[2] == 1 && w[3] == 1 && node.attrs().has("strides") &&
           node.attr<std::vector<std::int64_t>>("strides") != std::vector<std::int64_t>{1, 1};
  };
  for (const PlanStep& step : scheduler.plan()) {
    const std::string& op = step.node->op_type();
    const bool affine_step = op == "Conv" || op == "ConvChannelsLast" || op == "Gemm";
    if (affine_step && step.node->input(0)->dtype() == DataType::UInt8 && !strided_pointwise(*step.node)) {
      EXPECT_EQ(step.implementation, "onednn") << step.node->name();
    }
  }
  EXPECT_GE(accuracy(graph), float_accuracy(GetParam()) - 0.005 - 1e-9);
}

INSTANTIATE_TEST_SUITE_P(Examples, PtqEveryModel,
                         ::testing::Values("convnet", "convnet_bn", "resnet_tiny", "mobilenet_tiny"));

TEST(PtqModels, SeedFourBitSettingLosesAtMostThreePointsOnTheConvNet) {
  ptq::QuantizeOptions options;
  options.clipping_mode = ptq::Clipping::MSE;
  options.fake_quantize = true;
  const double reference = float_accuracy("convnet");
  EXPECT_GE(accuracy(quantized_model("convnet", options, DataType::Int4)), reference - 0.03);
  options.per_channel = true; // 90.28 % against float's 91.71 % on all 10,000 images (README)
  EXPECT_GE(accuracy(quantized_model("convnet", options, DataType::Int4)), reference - 0.03);
}

} // namespace
} // namespace tern
