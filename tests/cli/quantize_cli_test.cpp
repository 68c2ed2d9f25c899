// `tern quantize` as a user runs it: the report and its JSON keys, the saved model, and one
// clear error line (exit code 2) for each kind of bad input. The input model never changes.
#include <tern/tern.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
  EXPECT_NE(plain.err.find("--integer needs a model saved by tern quantize"), std::string::npos) << plain.err;
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

} // namespace
