// `tern quantize` as a user runs it: the report and its JSON keys, the saved model, and one
// clear error line (exit code 2) for each kind of bad input. The input model never changes.
#include <tern/tern.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "run_cli.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using tern::test::tern_cli;

namespace {

const fs::path convnet = fs::path(TERN_SOURCE_DIR) / "sdk/examples/models/convnet.onnx";

/// A path in this test program's own folder (removed at exit).
fs::path temp_path(const std::string& name) {
  static const tern::test::TempDir dir("tern-quantize-cli");
  return dir / name;
}

std::string bytes_of(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

bool has_dataset() { return fs::exists("/usr/share/datasets/fashion-mnist"); }

std::string quote(const fs::path& path) { return "'" + path.string() + "'"; }

TEST(QuantizeCli, ReportsAccuracyAndStepTimesAndLeavesTheInputAlone) {
  if (!has_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const std::string before = bytes_of(convnet);
  const fs::path output = temp_path("convnet_int8.onnx");
  const auto result =
      tern_cli("quantize " + quote(convnet) + " --calib-size 50 --eval fashion-mnist --eval-limit 300 -o " +
               quote(output) + " --json");
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(bytes_of(convnet), before);
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["calibration_samples"], 50);
  EXPECT_EQ(json["eval_samples"], 300);
  EXPECT_EQ(json["output"], output.string());
  for (const char* step : {"prepare", "compute_ranges", "adjust_ranges", "quantize", "fold", "cast_to_integer"})
    EXPECT_TRUE(json["seconds"].contains(step)) << step << ": " << json["seconds"].dump();
  const double float_accuracy = json["float_accuracy"].get<double>();
  EXPECT_GT(float_accuracy, 0.8);
  EXPECT_LE(json["quantized_accuracy"].get<double>(), 1.0);
  EXPECT_GE(json["quantized_accuracy"].get<double>(), float_accuracy - 0.02);
  EXPECT_NE(result.err.find("quantized"), std::string::npos) << result.err;
  // The saved model loads, and tern eval scales its inputs by itself (same accuracy).
  const auto eval = tern_cli("eval " + quote(output) + " --limit 300 --json");
  ASSERT_EQ(eval.code, 0) << eval.err;
  EXPECT_NEAR(nlohmann::json::parse(eval.out)["accuracy"].get<double>(), json["quantized_accuracy"].get<double>(),
              0.0101);
  // With --integer it runs exactly the integer network tern quantize measured.
  const auto integer = tern_cli("eval " + quote(output) + " --integer --limit 300 --json");
  ASSERT_EQ(integer.code, 0) << integer.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(integer.out)["accuracy"].get<double>(),
                   json["quantized_accuracy"].get<double>());
  const auto plain = tern_cli("eval " + quote(convnet) + " --integer --limit 10");
  EXPECT_EQ(plain.code, 2);
  EXPECT_NE(plain.err.find("--integer needs a quantized model"), std::string::npos) << plain.err;
}

TEST(QuantizeCli, ReportWritesPerNodeSqnrThatTheExplorerReadsAndPrintsTheWorst) {
  if (!has_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const fs::path report = temp_path("report.json");
  const auto result = tern_cli("quantize " + quote(convnet) + " --calib-size 50 -o " + quote(temp_path("r.onnx")) +
                               " --report " + quote(report));
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("worst in the network"), std::string::npos) << result.out;
  const auto json = nlohmann::json::parse(std::ifstream(report));
  EXPECT_EQ(json["format"], "tern.quantize_report");
  ASSERT_EQ(json["nodes"].size(), 4u) << json.dump(); // convnet: 2 Conv, 2 Gemm
  for (const auto& node : json["nodes"]) {
    EXPECT_GT(node["sqnr_db"]["alone"].get<double>(), 25.0) << node.dump(); // 8 bits: ~6 dB a bit
    EXPECT_GT(node["sqnr_db"]["network"].get<double>(), 15.0) << node.dump();
    EXPECT_GT(node["macs"].get<double>(), 0.0) << node.dump();
  }
  // The explorer draws it (its reader checks the schema of docs/REPORT.md).
  const auto page = tern_cli("explore " + quote(temp_path("r.onnx")) + " -o " + quote(temp_path("r.html")) +
                             " --report " + quote(report));
  EXPECT_EQ(page.code, 0) << page.err;
}

TEST(QuantizeCli, VerboseReportsRangesClippingAndScalesPerValue) {
  if (!has_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const auto result =
      tern_cli("quantize " + quote(convnet) + " --calib-size 20 --verbose --fake -o " + quote(temp_path("v.onnx")));
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("max|x|"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("(Conv): scale"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("input input: multiply by 127"), std::string::npos) << result.out;
}

void expect_one_line_error(const std::string& arguments, const std::string& reason) {
  const auto result = tern_cli(arguments);
  EXPECT_EQ(result.code, 2) << arguments << "\n" << result.err;
  EXPECT_NE(result.err.find(reason), std::string::npos) << arguments << "\n" << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST(QuantizeCli, BadOptionsAreOneLineErrors) {
  if (!has_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const std::string base = "quantize " + quote(convnet) + " --calib-size 10 ";
  const std::string out = " -o " + quote(temp_path("bad.onnx"));
  expect_one_line_error(base + "--clipping median" + out,
                        "unknown clipping mode 'median' (known: max, mse, aa, kl, percentile)");
  expect_one_line_error(base + "--weights int3" + out, "'int3' is not a data type");
  expect_one_line_error(base + "--activations int16" + out, "activation precision int16 is not supported");
  expect_one_line_error(base + "--accumulation int8" + out, "must be wider than the operands");
  expect_one_line_error(base, "needs -o OUT.onnx");
  expect_one_line_error(base + "-o " + quote(convnet), "is the input model itself");
  expect_one_line_error(base + "--use-cuda" + out, "use_cuda");
  // Options that cannot apply together.
  expect_one_line_error(base + "--adaround --no-quant" + out, "--adaround");
  expect_one_line_error(base + "--mixed-precision" + out, "ask for fewer bits");
  expect_one_line_error(base + "--format qdq --fake" + out, "--format qdq");
  expect_one_line_error(base + "--format tflite" + out, "--format tflite");
}

TEST(QuantizeCli, UnsupportedNodesAreListedUnlessKeptInFloat) {
  if (!has_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  // Conv → ReduceMax over the channels: the PTQ has no integer form for that reduction.
  tern::Graph graph;
  graph.add_input("input", tern::DataType::Float32, tern::Shape{tern::Shape::dynamic, 1, 28, 28});
  graph.add_constant("w", tern::Tensor::from_floats({2, 1, 3, 3}, std::vector<float>(18, 0.1f)));
  graph.add_node("Conv", {"input", "w"}, {"c"}, {}, "conv");
  tern::Attributes channels;
  channels.set("axes", std::vector<std::int64_t>{1});
  graph.add_node("ReduceMax", {"c"}, {"s"}, channels, "squash");
  graph.add_node("Flatten", {"s"}, {"logits"});
  graph.add_output("logits");
  const fs::path model = temp_path("sigmoid.onnx");
  tern::save_model(graph, model);
  const std::string command = "quantize " + quote(model) + " --calib-size 10 -o " + quote(temp_path("sigmoid_q.onnx"));
  expect_one_line_error(command, "cannot quantize 1 node(s): 'squash' (ReduceMax)");
  const auto kept = tern_cli(command + " --keep-float");
  EXPECT_EQ(kept.code, 0) << kept.err;
}

/// input[N,1,28,28] → Conv → Reshape to [N, -1] through the Shape → Gather → Unsqueeze →
/// Concat chain PyTorch writes for a dynamic batch → Gemm.
tern::Graph dynamic_batch_net() {
  tern::Graph graph;
  graph.add_input("input", tern::DataType::Float32, tern::Shape{tern::Shape::dynamic, 1, 28, 28});
  std::vector<float> w(18);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * static_cast<float>(static_cast<int>(i % 7) - 3);
  graph.add_constant("w", tern::Tensor::from_floats({2, 1, 3, 3}, w));
  std::vector<float> fc(1352 * 10);
  for (std::size_t i = 0; i < fc.size(); ++i) fc[i] = 0.01f * static_cast<float>(static_cast<int>(i % 13) - 6);
  graph.add_constant("fc", tern::Tensor::from_floats({1352, 10}, fc));
  const auto int64s = [](tern::Shape shape, std::vector<std::int64_t> values) {
    return tern::Tensor::from<std::int64_t>(std::move(shape), tern::DataType::Int64, values);
  };
  graph.add_constant("zero", int64s({}, {0}));
  graph.add_constant("axes", int64s({1}, {0}));
  graph.add_constant("rest", int64s({1}, {-1}));
  graph.add_node("Conv", {"input", "w"}, {"c"}, {}, "conv");
  graph.add_node("Shape", {"c"}, {"dims"});
  graph.add_node("Gather", {"dims", "zero"}, {"batch"});
  graph.add_node("Unsqueeze", {"batch", "axes"}, {"batch1"});
  tern::Attributes axis0;
  axis0.set("axis", std::int64_t{0});
  graph.add_node("Concat", {"batch1", "rest"}, {"to"}, axis0);
  graph.add_node("Reshape", {"c", "to"}, {"flat"});
  graph.add_node("Gemm", {"flat", "fc"}, {"logits"}, {}, "fc");
  graph.add_output("logits");
  return graph;
}

TEST(QuantizeCli, InputShapeFoldsTheShapeArithmeticAndFixesTheBatch) {
  if (!has_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const fs::path model = temp_path("dynamic.onnx");
  tern::save_model(dynamic_batch_net(), model);
  const fs::path dynamic = temp_path("dynamic_q.onnx"), fixed = temp_path("fixed_q.onnx");
  const std::string quantize = "quantize " + quote(model) + " --calib-size 8 -o ";
  ASSERT_EQ(tern_cli(quantize + quote(dynamic)).code, 0);
  const auto result = tern_cli(quantize + quote(fixed) + " --input-shape input=8x1x28x28");
  ASSERT_EQ(result.code, 0) << result.err;

  const tern::Graph graph = tern::load_model(fixed);
  EXPECT_EQ(graph.inputs()[0]->shape(), (tern::Shape{8, 1, 28, 28}));
  for (const tern::Node* node : graph.nodes())
    for (const char* op : {"Shape", "Gather", "Unsqueeze", "Concat"}) EXPECT_NE(node->op_type(), op) << node->name();
  // The same quantization either way: the integer runs agree exactly.
  const fs::path images = temp_path("images.npy");
  std::vector<float> pixels(8 * 28 * 28);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>((i * 37) % 256) / 255.0f;
  tern::write_npy(tern::Tensor::from_floats({8, 1, 28, 28}, pixels), images);
  for (const fs::path& quantized : {dynamic, fixed}) {
    const auto ran = tern_cli("run " + quote(quantized) + " --integer --input " + quote(images) + " --output-dir " +
                              quote(temp_path(quantized.stem().string())));
    ASSERT_EQ(ran.code, 0) << ran.err;
  }
  const tern::Tensor a = tern::read_npy(temp_path("dynamic_q") / "logits.npy");
  const tern::Tensor b = tern::read_npy(temp_path("fixed_q") / "logits.npy");
  EXPECT_EQ(a.to_doubles(), b.to_doubles());

  // tern bench measures the batch the model fixes.
  const auto bench = tern_cli("bench " + quote(fixed) + " --integer --seconds 0.2");
  EXPECT_EQ(bench.code, 0) << bench.err;
  EXPECT_NE(bench.out.find("at batch 8"), std::string::npos) << bench.out;
  expect_one_line_error("bench " + quote(fixed) + " --batch 4 --seconds 0.2", "fixes the batch at 8");

  // Bad shapes and batches are one-line errors.
  expect_one_line_error(quantize + quote(fixed) + " --input-shape input=8x3x28x28", "does not fit its declared shape");
  expect_one_line_error(quantize + quote(fixed) + " --input-shape other=8x1x28x28", "the model has no such input");
  expect_one_line_error(quantize + quote(fixed) + " --input-shape 8x1x28", "does not fit its declared shape");
  expect_one_line_error(quantize + quote(fixed) + " --input-shape 8x1x28xq", "'q' is not a positive dimension");
  expect_one_line_error("quantize " + quote(model) + " --calib-size 10 -o " + quote(fixed) +
                            " --input-shape input=8x1x28x28",
                        "10 samples do not make whole batches of 8");
}

TEST(QuantizeCli, QdqWeightsStayWithinSevenBitsUnlessFullRange) {
  if (!has_dataset()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const auto largest_weight = [](const fs::path& path) {
    double largest = 0;
    const tern::Graph graph = tern::load_model(path);
    for (const tern::Value* value : graph.constants())
      if (value->constant()->dtype() == tern::DataType::Int8)
        for (const double v : value->constant()->to_doubles()) largest = std::max(largest, std::abs(v));
    return largest;
  };
  const std::string base = "quantize " + quote(convnet) + " --calib-size 10 --format qdq -o ";
  ASSERT_EQ(tern_cli(base + quote(temp_path("reduced.onnx"))).code, 0);
  ASSERT_EQ(tern_cli(base + quote(temp_path("full.onnx")) + " --full-range").code, 0);
  EXPECT_LE(largest_weight(temp_path("reduced.onnx")), 63);
  EXPECT_GT(largest_weight(temp_path("full.onnx")), 63);
  expect_one_line_error(base + quote(temp_path("x.onnx")) + " --full-range --reduce-range", "contradict");
  expect_one_line_error("quantize " + quote(convnet) + " --calib-size 10 --full-range -o " + quote(temp_path("x.onnx")),
                        "--full-range goes with --format qdq");
}

} // namespace
