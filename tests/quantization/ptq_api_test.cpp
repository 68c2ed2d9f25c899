// The PTQ through its public API (the "ptq" plugin loaded by name) on a small network whose
// quantized arithmetic is recomputed here with naive loops.
#include "graphs.hpp"
#include "reference_backend.hpp"

#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

namespace tern {
namespace {

constexpr std::int64_t batch = 8;

/// Conv(1→2, 3×3) → Relu → Flatten → Gemm(8 → 3).
Graph small_net() {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 1, 4, 4});
  graph.add_constant("w1", test::random_tensor({2, 1, 3, 3}, 21));
  graph.add_constant("b1", test::random_tensor({2}, 22, -0.1f, 0.1f));
  graph.add_constant("w2", test::random_tensor({3, 8}, 23));
  graph.add_constant("b2", test::random_tensor({3}, 24, -0.1f, 0.1f));
  graph.add_node("Conv", {"x", "w1", "b1"}, {"c"}, {}, "conv");
  graph.add_node("Relu", {"c"}, {"r"});
  graph.add_node("Flatten", {"r"}, {"f"});
  Attributes gemm;
  gemm.set("transB", std::int64_t{1});
  graph.add_node("Gemm", {"f", "w2", "b2"}, {"y"}, gemm, "fc");
  graph.add_output("y");
  graph.infer_shapes();
  return graph;
}

class PtqApi : public ::testing::Test {
protected:
  void SetUp() override { test::register_reference_backend(); }
};

Tensor images() { return test::random_tensor({batch, 1, 4, 4}, 25, 0.0f, 1.0f); }

Tensor run(const Graph& graph, const Tensor& input) {
  SequentialScheduler scheduler(graph, {"cpu"});
  return scheduler.forward({ptq::scale_input(graph, input)})[0];
}

ptq::QuantizeOptions plain_options() {
  ptq::QuantizeOptions options;
  options.fake_quantize = true;
  return options;
}

Graph quantized(ptq::QuantizeOptions options, DataType bits = DataType::Int8) {
  Graph graph = small_net();
  ptq::auto_assign_node_precision(graph, bits, bits, DataType::Int32);
  ptq::quantize_network(graph, std::vector<Tensor>{images()}, options);
  return graph;
}

double max_abs(const std::vector<double>& values) {
  double m = 0;
  for (const double v : values) m = std::max(m, std::abs(v));
  return m;
}

/// The documented arithmetic (MAX clipping, per-tensor, no equalisation or bias
/// correction), in naive loops over the float model's own weights.
std::vector<double> naive_quantized(const Tensor& input) {
  const Graph graph = small_net();
  const std::vector<double> w1 = graph.value("w1").constant()->to_doubles(),
                            b1 = graph.value("b1").constant()->to_doubles();
  const std::vector<double> w2 = graph.value("w2").constant()->to_doubles(),
                            b2 = graph.value("b2").constant()->to_doubles();
  const std::vector<double> x = input.to_doubles();
  const double s_in = 1.0 / 127, s_w1 = max_abs(w1) / 127, s_w2 = max_abs(w2) / 127;
  // Calibration range: the float network's Relu output over the same images.
  const Tensor float_relu = [&] {
    Graph copy = small_net();
    copy.add_output("r");
    SequentialScheduler scheduler(copy, {"cpu"});
    return scheduler.forward({input})[1];
  }();
  const double r1 = max_abs(float_relu.to_doubles());
  const double s1 = r1 / 127;
  const auto q = [](double v) { return std::nearbyint(v); };
  const auto rescale = [](double acc, double m) -> double {
    return std::nearbyint(static_cast<float>(acc) * static_cast<float>(m));
  };
  std::vector<double> out;
  for (std::int64_t n = 0; n < batch; ++n) {
    std::vector<double> y1; // [2, 2, 2] flattened
    for (int oc = 0; oc < 2; ++oc)
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) {
          double acc = q(b1[oc] / (s_in * s_w1));
          for (int ki = 0; ki < 3; ++ki)
            for (int kj = 0; kj < 3; ++kj)
              acc += q(w1[oc * 9 + ki * 3 + kj] / s_w1) * q(x[n * 16 + (i + ki) * 4 + (j + kj)] * 127);
          y1.push_back(std::clamp(rescale(acc, s_in * s_w1 / s1), 0.0, 127.0));
        }
    for (int o = 0; o < 3; ++o) {
      double acc = q(b2[o] / (s1 * s_w2));
      for (int k = 0; k < 8; ++k) acc += q(w2[o * 8 + k] / s_w2) * y1[k];
      // The network output keeps the accumulation precision: the accumulator, dequantized.
      out.push_back(static_cast<float>(acc) * static_cast<float>(s1 * s_w2));
    }
  }
  return out;
}

TEST_F(PtqApi, FakeQuantizedNetworkComputesTheDocumentedArithmetic) {
  ptq::QuantizeOptions options = plain_options();
  options.equalize = false;
  options.bias_correction = false;
  const Tensor output = run(quantized(options), images());
  const std::vector<double> expected = naive_quantized(images());
  const std::vector<double> actual = output.to_doubles();
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-4 * max_abs(expected)) << i;
}

TEST_F(PtqApi, NoQuantReproducesTheFloatNetwork) {
  ptq::QuantizeOptions options = plain_options();
  options.no_quant = true;
  const Tensor expected = test::run_reference(small_net(), images());
  EXPECT_LT(test::max_abs_diff(run(quantized(options), images()), expected), 1e-4);
}

TEST_F(PtqApi, EightBitsStayCloseToFloatAndFourBitsFurther) {
  const Tensor expected = test::run_reference(small_net(), images());
  const double range = max_abs(expected.to_doubles());
  const double error8 = test::max_abs_diff(run(quantized(plain_options()), images()), expected);
  const double error4 = test::max_abs_diff(run(quantized(plain_options(), DataType::Int4), images()), expected);
  EXPECT_LT(error8, 0.03 * range);
  EXPECT_GT(error4, error8);
}

TEST_F(PtqApi, StepsRunAloneGiveTheSameNetworkAsThePipeline) {
  const ptq::QuantizeOptions options = [] {
    ptq::QuantizeOptions o = plain_options();
    o.clipping_mode = ptq::Clipping::MSE;
    return o;
  }();
  Graph stepwise = small_net();
  ptq::auto_assign_node_precision(stepwise, DataType::Int8, DataType::Int8, DataType::Int32);
  ptq::prepare_network(stepwise, options);
  ptq::compute_ranges(stepwise, {images()}, options);
  ptq::adjust_ranges(stepwise, options);
  ptq::quantize_normalized_network(stepwise, options);
  ptq::correct_biases(stepwise, {images()}, options);
  ptq::fold_quantizers(stepwise, options);
  EXPECT_EQ(test::max_abs_diff(run(stepwise, images()), run(quantized(options), images())), 0.0);
}

TEST_F(PtqApi, AutoAssignKeepsManualTagsAndChecksTheAccumulation) {
  Graph graph = small_net();
  graph.find_node("fc")->meta().set("quantization.ptq.weightprecision", std::string("int4"));
  ptq::auto_assign_node_precision(graph, DataType::Int8, DataType::Int8, DataType::Int32);
  EXPECT_EQ(graph.find_node("fc")->meta().get<std::string>("quantization.ptq.weightprecision"), "int4");
  EXPECT_EQ(graph.find_node("conv")->meta().get<std::string>("quantization.ptq.weightprecision"), "int8");
  EXPECT_EQ(graph.find_node("conv")->meta().get<std::string>("quantization.ptq.accumulationprecision"), "int32");
  try {
    ptq::auto_assign_node_precision(graph, DataType::Int8, DataType::Int8, DataType::Int8);
    FAIL() << "an int8 accumulation of int8 operands must be refused";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("must be wider than the operands"), std::string::npos) << error.what();
  }
}

TEST_F(PtqApi, UntaggedGraphIsRefusedWithTheReason) {
  Graph graph = small_net();
  try {
    ptq::quantize_network(graph, std::vector<Tensor>{images()}, plain_options());
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("auto_assign_node_precision"), std::string::npos) << error.what();
  }
}

// A graph prepared for inference has fused activations (and channels-last Convs where a
// backend runs them) the PTQ does not quantize: it says so instead of leaving them float.
TEST_F(PtqApi, GraphPreparedForInferenceIsRefusedWithTheReason) {
  Graph graph = small_net();
  prepare_for_inference(graph);
  ptq::auto_assign_node_precision(graph, DataType::Int8, DataType::Int8, DataType::Int32);
  try {
    ptq::quantize_network(graph, std::vector<Tensor>{images()}, plain_options());
    FAIL() << "a prepared graph was quantized";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("quantize_network: "), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("written by prepare_for_inference"), std::string::npos) << error.what();
  }
}

TEST_F(PtqApi, UnsupportedNodesAreListedOrKeptInFloatOnRequest) {
  // The largest logit of each sample: a reduction over the classes has no integer form.
  const auto with_reduce_max = [] {
    Graph graph = small_net();
    Attributes classes;
    classes.set("axes", std::vector<std::int64_t>{1});
    graph.insert_after(graph.value("y"), "ReduceMax", classes, {}, "largest");
    ptq::auto_assign_node_precision(graph, DataType::Int8, DataType::Int8, DataType::Int32);
    return graph;
  };
  Graph refused = with_reduce_max();
  try {
    ptq::quantize_network(refused, std::vector<Tensor>{images()}, plain_options());
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'largest' (ReduceMax)"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("keep_float"), std::string::npos) << error.what();
  }
  Graph kept = with_reduce_max();
  ptq::QuantizeOptions options = plain_options();
  options.keep_float = true;
  ptq::quantize_network(kept, std::vector<Tensor>{images()}, options);
  Graph reference = with_reduce_max();
  EXPECT_LT(test::max_abs_diff(run(kept, images()), run(reference, images())), 0.02);
}

TEST_F(PtqApi, UseCudaWithoutAUsableCudaBackendSaysWhy) {
  try {
    backend("cuda");
    GTEST_SKIP() << "the cuda backend is usable here (tests/cuda checks use_cuda against the CPU)";
  } catch (const Error&) {
  }
  Graph graph = small_net();
  ptq::auto_assign_node_precision(graph, DataType::Int8, DataType::Int8, DataType::Int32);
  ptq::QuantizeOptions options = plain_options();
  options.use_cuda = true;
  try {
    ptq::quantize_network(graph, std::vector<Tensor>{images()}, options);
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("use_cuda"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("cuda"), std::string::npos) << error.what();
  }
}

TEST_F(PtqApi, ScaleInputMultipliesClampsAndRounds) {
  const Graph graph = quantized(plain_options(), DataType::Int4);
  const Tensor scaled = ptq::scale_input(graph, Tensor::from_floats({4}, {0.5f, -0.21f, 1.0f, 3.0f}));
  EXPECT_EQ(scaled.to_doubles(), (std::vector<double>{4.0, -1.0, 7.0, 7.0})); // ×7, rounded half to even, clamped
  const Tensor untouched = Tensor::from_floats({1}, {0.5f});
  EXPECT_EQ(ptq::scale_input(small_net(), untouched).to_doubles(), untouched.to_doubles());
}

TEST_F(PtqApi, SavedModelIsStandardOnnxAndReloadsToTheSameOutputs) {
  const Graph graph = quantized(plain_options());
  const std::filesystem::path path = std::filesystem::temp_directory_path() / "tern_ptq_api_saved.onnx";
  save_model(graph, path);
  const Graph reloaded = load_model(path);
  std::filesystem::remove(path);
  EXPECT_TRUE(ptq::is_quantized(reloaded)); // the input scaling travels in the file's metadata
  EXPECT_EQ(test::max_abs_diff(run(reloaded, images()), run(graph, images())), 0.0);
}

} // namespace
} // namespace tern
