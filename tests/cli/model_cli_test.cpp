// `tern info`, `tern run` and `tern eval` on real model files, checked against independent
// references: ONNX's own test outputs, a hand-computed MAC count, hand-labelled data.
#include <tern/npy.hpp>
#include <tern/onnx_tensor.hpp>
#include <tern/tern.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "run_cli.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using tern::test::tern_cli;

namespace {

/// A path in this test program's own folder (removed at exit).
fs::path temp_path(const std::string& name) {
  static const tern::test::TempDir dir("tern-model-cli");
  return dir / name;
}

/// A ResNet-18-shaped graph (BatchNorm folded away) at 224×224 with zero weights, and the
/// MACs of each of its Conv/Gemm layers counted by hand: out_h·out_w·cout·(cin·k·k).
struct ResNet18 {
  tern::Graph graph;
  std::int64_t macs = 0;
  int layer = 0;

  std::string conv(const std::string& in, std::int64_t cin, std::int64_t cout, std::int64_t k, std::int64_t stride,
                   std::int64_t size_out, bool relu) {
    const std::string name = "conv" + std::to_string(layer++);
    graph.add_constant(name + ".w", tern::Tensor(tern::Shape{cout, cin, k, k}, tern::DataType::Float32));
    tern::Attributes attrs;
    attrs.set("strides", std::vector<std::int64_t>{stride, stride});
    const std::int64_t pad = k / 2;
    attrs.set("pads", std::vector<std::int64_t>{pad, pad, pad, pad});
    graph.add_node("Conv", {in, name + ".w"}, {name}, attrs);
    macs += size_out * size_out * cout * cin * k * k;
    if (!relu) return name;
    graph.add_node("Relu", {name}, {name + ".relu"});
    return name + ".relu";
  }

  std::string block(const std::string& in, std::int64_t cin, std::int64_t cout, std::int64_t stride,
                    std::int64_t size_out) {
    const std::string a = conv(in, cin, cout, 3, stride, size_out, true);
    const std::string b = conv(a, cout, cout, 3, 1, size_out, false);
    const std::string skip = stride == 1 && cin == cout ? in : conv(in, cin, cout, 1, stride, size_out, false);
    const std::string sum = b + ".add";
    graph.add_node("Add", {b, skip}, {sum});
    graph.add_node("Relu", {sum}, {sum + ".relu"});
    return sum + ".relu";
  }

  ResNet18() {
    graph.add_input("input", tern::DataType::Float32, tern::Shape{tern::Shape::dynamic, 3, 224, 224});
    std::string x = conv("input", 3, 64, 7, 2, 112, true);
    tern::Attributes pool;
    pool.set("kernel_shape", std::vector<std::int64_t>{3, 3});
    pool.set("strides", std::vector<std::int64_t>{2, 2});
    pool.set("pads", std::vector<std::int64_t>{1, 1, 1, 1});
    graph.add_node("MaxPool", {x}, {"pool"}, pool);
    x = "pool";
    std::int64_t channels = 64, size = 56;
    for (const std::int64_t width : {64, 128, 256, 512}) {
      const std::int64_t stride = width == channels ? 1 : 2;
      size /= stride;
      x = block(x, channels, width, stride, size);
      x = block(x, width, width, 1, size);
      channels = width;
    }
    graph.add_node("GlobalAveragePool", {x}, {"gap"});
    graph.add_node("Flatten", {"gap"}, {"flat"});
    graph.add_constant("fc.w", tern::Tensor(tern::Shape{1000, 512}, tern::DataType::Float32));
    graph.add_constant("fc.b", tern::Tensor(tern::Shape{1000}, tern::DataType::Float32));
    tern::Attributes gemm;
    gemm.set("transB", std::int64_t{1});
    graph.add_node("Gemm", {"flat", "fc.w", "fc.b"}, {"logits"}, gemm);
    graph.add_output("logits");
    macs += 512 * 1000;
  }
};

} // namespace

TEST(ModelCli, InfoCountsResNet18MacsWithinOnePercent) {
  ResNet18 resnet;
  EXPECT_EQ(resnet.macs, 1'814'073'344); // the published ResNet-18 figure, 1.814 GMACs
  const fs::path model = temp_path("resnet18.onnx");
  tern::save_model(resnet.graph, model);
  const auto result = tern_cli("info '" + model.string() + "' --json");
  ASSERT_EQ(result.code, 0) << result.err;
  const auto info = nlohmann::json::parse(result.out);
  const auto macs = info["macs"].get<double>();
  EXPECT_NEAR(macs / static_cast<double>(resnet.macs), 1.0, 0.01);
  EXPECT_EQ(info["ops"]["Conv"], 20);
  EXPECT_EQ(info["unsupported"]["cpu"].size(), 0u);
  EXPECT_EQ(info["inputs"][0]["shape"][0], nullptr); // the dynamic batch
}

TEST(ModelCli, RunReproducesAnOnnxTestOutput) {
  const fs::path test = "/usr/share/libonnx-testdata/data/node/test_conv_with_strides_and_asymmetric_padding";
  if (!fs::exists(test)) GTEST_SKIP() << "libonnx-testdata is not installed";
  std::string inputs;
  for (int i = 0; i < 2; ++i) {
    const fs::path npy = temp_path("input_" + std::to_string(i) + ".npy");
    tern::write_npy(tern::read_tensor_pb(test / "test_data_set_0" / ("input_" + std::to_string(i) + ".pb")), npy);
    inputs += " --input '" + npy.string() + "'";
  }
  const fs::path out = temp_path("outputs");
  const auto result =
      tern_cli("run '" + (test / "model.onnx").string() + "'" + inputs + " --output-dir '" + out.string() + "' --json");
  ASSERT_EQ(result.code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  ASSERT_EQ(json["outputs"].size(), 1u);
  const std::string file = json["outputs"].begin().value()["file"];
  const tern::Tensor got = tern::read_npy(file);
  const tern::Tensor want = tern::read_tensor_pb(test / "test_data_set_0" / "output_0.pb");
  ASSERT_EQ(got.shape(), want.shape());
  const auto a = got.to_doubles(), b = want.to_doubles();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-7 + 1e-3 * std::abs(b[i])) << i;
}

TEST(ModelCli, CorruptModelIsOneLineAndExitCode2AndTheFileIsUntouched) {
  const fs::path model = temp_path("corrupt.onnx");
  const std::string bytes = "\x08\x07\x12\x04tern\x3a\xff\xff\xff garbage";
  std::ofstream(model, std::ios::binary) << bytes;
  const auto result = tern_cli("info '" + model.string() + "'");
  EXPECT_EQ(result.code, 2);
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_NE(result.err.find(model.string()), std::string::npos) << result.err;
  std::ifstream in(model, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), {}), bytes);
  EXPECT_EQ(tern_cli("info /nonexistent/model.onnx").code, 2);
}

TEST(ModelCli, EvalCountsHandLabelledSamples) {
  // A 2-class classifier on 1×2×2 images: logit c = sum of the pixels of row c.
  tern::Graph graph;
  graph.add_input("input", tern::DataType::Float32, tern::Shape{tern::Shape::dynamic, 1, 2, 2});
  graph.add_constant("w", tern::Tensor::from_floats(tern::Shape{4, 2}, {1, 0, 1, 0, 0, 1, 0, 1}));
  graph.add_node("Flatten", {"input"}, {"flat"});
  graph.add_node("MatMul", {"flat", "w"}, {"logits"});
  graph.add_output("logits");
  const fs::path model = temp_path("rows.onnx");
  tern::save_model(graph, model);
  // Images: top row brighter → class 0; bottom row brighter → class 1. Labels: the last is wrong.
  const fs::path samples = temp_path("samples.npy"), labels = temp_path("labels.npy");
  tern::write_npy(
      tern::Tensor::from(tern::Shape{4, 2, 2}, tern::DataType::UInt8,
                         std::vector<std::uint8_t>{200, 200, 0, 0, 0, 10, 90, 90, 50, 60, 1, 2, 3, 3, 9, 9}),
      samples);
  tern::write_npy(tern::Tensor::from(tern::Shape{4}, tern::DataType::Int64, std::vector<std::int64_t>{0, 1, 0, 0}),
                  labels);
  const auto result = tern_cli("eval '" + model.string() + "' --dataset '" + samples.string() + "' --labels '" +
                               labels.string() + "' --batch 3 --json");
  ASSERT_EQ(result.code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["samples"], 4);
  EXPECT_DOUBLE_EQ(json["accuracy"].get<double>(), 0.75);
  EXPECT_GT(json["images_per_second"].get<double>(), 0.0);
  const auto mismatch = tern_cli("eval '" + model.string() + "' --dataset '" + samples.string() + "'");
  EXPECT_EQ(mismatch.code, 2); // no labels
  EXPECT_NE(mismatch.err.find("no labels"), std::string::npos) << mismatch.err;
}

TEST(ModelCli, NpyFilesWrittenByNumpyEvaluateLikeTheIdxFiles) {
  const fs::path model = fs::path(TERN_SOURCE_DIR) / "sdk/examples/models/convnet.onnx";
  const fs::path data = fs::path(TERN_SOURCE_DIR) / "tests/data";
  if (!fs::exists("/usr/share/datasets/fashion-mnist")) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const auto accuracy = [&](const std::string& dataset) {
    const auto result = tern_cli("eval '" + model.string() + "' " + dataset + " --json");
    EXPECT_EQ(result.code, 0) << result.err;
    const auto json = nlohmann::json::parse(result.out);
    EXPECT_EQ(json["samples"], 300);
    return json["accuracy"].get<double>();
  };
  const double idx = accuracy("--dataset fashion-mnist --limit 300");
  const std::string labels = " --labels '" + (data / "fmnist_test300_labels.npy.gz").string() + "'";
  // uint8 N×28×28, plain .npy; float32 N×1×28×28, gzip'd: the same 300 images.
  EXPECT_DOUBLE_EQ(accuracy("--dataset '" + (data / "fmnist_test300_u8.npy").string() + "'" + labels), idx);
  EXPECT_DOUBLE_EQ(accuracy("--dataset '" + (data / "fmnist_test300_f32.npy.gz").string() + "'" + labels), idx);
  EXPECT_GT(idx, 0.8); // a trained model, not chance
}

TEST(ModelCli, DemoMeasuresTheExampleConvNet) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist")) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const fs::path model = fs::path(TERN_SOURCE_DIR) / "sdk/examples/models/convnet.onnx";
  const auto result = tern_cli("demo --json --samples 200 --model '" + model.string() + "'");
  ASSERT_EQ(result.code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["eval_samples"], 200);
  EXPECT_EQ(json["calibration_samples"], 100);
  const double float_accuracy = json["float_accuracy"].get<double>();
  EXPECT_GT(float_accuracy, 0.85); // a trained ConvNet, not chance (0.1)
  EXPECT_GE(json["int8_accuracy"].get<double>(), float_accuracy - 0.01);
  EXPECT_GT(json["int4_accuracy"].get<double>(), 0.8);
  EXPECT_NE(result.err.find("6. 8-bit accuracy"), std::string::npos) << result.err;
}

TEST(ModelCli, TruncatedIdxAndWrongNpyDtypeAreOneLineAndExitCode2) {
  const fs::path fmnist = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(fmnist)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const fs::path model = fs::path(TERN_SOURCE_DIR) / "sdk/examples/models/convnet.onnx";
  const fs::path dir = temp_path("truncated_idx");
  fs::create_directories(dir);
  std::ifstream in(fmnist / "t10k-images-idx3-ubyte.gz", std::ios::binary);
  std::string bytes(5000, '\0');
  in.read(bytes.data(), 5000);
  std::ofstream(dir / "t10k-images-idx3-ubyte.gz", std::ios::binary) << bytes;
  fs::copy_file(fmnist / "t10k-labels-idx1-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz",
                fs::copy_options::overwrite_existing);
  const auto truncated = tern_cli("eval '" + model.string() + "' --dataset 'fashion-mnist:" + dir.string() + "'");
  EXPECT_EQ(truncated.code, 2);
  EXPECT_EQ(std::count(truncated.err.begin(), truncated.err.end(), '\n'), 1) << truncated.err;
  EXPECT_NE(truncated.err.find("truncated"), std::string::npos) << truncated.err;
  const fs::path data = fs::path(TERN_SOURCE_DIR) / "tests/data";
  const auto dtype = tern_cli("eval '" + model.string() + "' --dataset '" + (data / "f32_big_endian.npy").string() +
                              "' --labels '" + (data / "i64_labels_2.npy").string() + "'");
  EXPECT_EQ(dtype.code, 2);
  EXPECT_EQ(std::count(dtype.err.begin(), dtype.err.end(), '\n'), 1) << dtype.err;
  EXPECT_NE(dtype.err.find("unsupported dtype '>f4'"), std::string::npos) << dtype.err;
}

// `tern bench --profile --json`: every step of the plan with its implementation, oneDNN's
// primitives for the oneDNN kernels, a time and a share; the shares make the whole.
TEST(ModelCli, BenchProfileListsEveryStepWithItsImplementationTimeAndShare) {
  const std::string model = std::string(TERN_SOURCE_DIR) + "/sdk/examples/models/convnet.onnx";
  const auto result = tern_cli("bench " + model + " --batch 8 --seconds 0.2 --profile --profile-runs 5 --json");
  ASSERT_EQ(result.code, 0) << result.err;
  const nlohmann::json profile = nlohmann::json::parse(result.out)["profile"];
  EXPECT_EQ(profile["runs"], 5);
  // The plan of the model as loaded for inference (BatchNorm folded, activations fused).
  const tern::Graph graph = tern::load_for_inference(model);
  ASSERT_EQ(profile["steps"].size(), graph.node_count());
  double shares = 0;
  bool convolution = false;
  const nlohmann::json& steps = profile["steps"];
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const nlohmann::json& step = steps[i];
    EXPECT_NE(graph.find_node(step["node"].get<std::string>()), nullptr) << step;
    EXPECT_EQ(step["backend"], "cpu");
    EXPECT_FALSE(step["implementation"].get<std::string>().empty()) << step;
    EXPECT_GE(step["median_seconds"].get<double>(), 0.0);
    shares += step["share"].get<double>();
    if (step["op"].get<std::string>().starts_with("Conv")) { // Conv, ConvChannelsLast, ConvBlocked
      convolution = true;
      // A Conv fused with the step after it (a pool) runs inside that step's kernel.
      const bool fused = step["fused_into_next"].get<bool>();
      if (fused) {
        EXPECT_EQ(step["median_seconds"], 0.0);
      }
      const nlohmann::json& ran = fused ? steps.at(i + 1) : step;
      EXPECT_NE(ran["detail"].get<std::string>().find("convolution "), std::string::npos) << ran;
    }
  }
  EXPECT_TRUE(convolution);
  EXPECT_NEAR(shares, 1.0, 1e-9);
  double op_shares = 0;
  for (const nlohmann::json& op : profile["ops"]) op_shares += op["share"].get<double>();
  EXPECT_NEAR(op_shares, 1.0, 1e-9);
}
