// The C export against Tern itself. Each example model, quantized W8A8 and W4A8 (int4
// weights, packed two per byte in the C), is saved, exported, compiled by the host gcc with
// AddressSanitizer and UBSan, and run on 1,000 test images: NAME_run_int's accumulators
// equal the int32 values Tern's integer kernels compute on the same file (the graph
// `tern run --integer` runs), and NAME_run's floats equal Tern's logits bit for bit (on the
// first 200: the float edges are a few lines around NAME_run_int, run 1,000 times). Also:
// what it refuses, and the arena against a plan worked out by hand.
#include <tern/tern.hpp>

#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace tern {
namespace {

constexpr std::size_t test_count = 1000, float_count = 200;

std::string model_path(const std::string& name) {
  return std::string(TERN_SOURCE_DIR) + "/sdk/examples/models/" + name + ".onnx";
}

const Dataset& test_images() {
  static const Dataset images = open_dataset("fashion-mnist", "test").first(test_count);
  return images;
}

/// `name` quantized and saved as tern quantize does (100 calibration images, MSE; the file
/// holds the fake-quantized form).
void quantize_to(const std::string& name, DataType weights, const std::filesystem::path& file) {
  static const Dataset calibration = open_dataset("fashion-mnist", "train").first(100);
  Graph graph = load_model(model_path(name));
  ptq::auto_assign_node_precision(graph, weights, DataType::Int8, DataType::Int32);
  ptq::QuantizeOptions options;
  options.fake_quantize = true;
  ptq::quantize_network(graph, calibration, options);
  save_model(graph, file);
}

/// What Tern computes for the test images with the integer graph of a saved model.
struct TernRun {
  std::vector<float> inputs;      // the float test images
  std::vector<std::int8_t> int8s; // the int8 tensor its input Requantize makes of them
  std::vector<std::int32_t> accs; // the int32 values its output is dequantized from
  std::vector<float> logits;      // its float output
};

template <class T> void append(std::vector<T>& to, const Tensor& tensor) {
  const Tensor host = tensor.to(host_backend());
  to.insert(to.end(), host.data<T>(), host.data<T>() + host.numel());
}

TernRun run_tern(const std::filesystem::path& file) {
  Graph graph = load_model(file); // as tern run --integer loads it
  ptq::cast_to_integer(graph);
  prepare_for_inference(graph);
  const Value& input = *graph.inputs()[0];
  const Value& int8s = *graph.consumers(input).at(0)->output();
  const Node* dequantize = graph.outputs()[0]->producer(); // Mul(Cast(accumulators), scale)
  const Value& accs = *dequantize->input(0)->producer()->input(0);
  EXPECT_EQ(int8s.dtype(), DataType::Int8);
  EXPECT_EQ(accs.dtype(), DataType::Int32);
  graph.add_output(int8s.name());
  graph.add_output(accs.name());

  SequentialScheduler scheduler(graph, {"cpu"});
  TernRun run;
  for (std::size_t begin = 0; begin < test_images().size(); begin += 100) {
    const Tensor batch = test_images().batch(begin, 100);
    append<float>(run.inputs, batch);
    const std::vector<Tensor> outputs = scheduler.forward({ptq::scale_input(graph, batch)});
    append<float>(run.logits, outputs[0]);
    append<std::int8_t>(run.int8s, outputs[1]);
    append<std::int32_t>(run.accs, outputs[2]);
  }
  return run;
}

template <class T> void write_raw(const std::filesystem::path& path, const std::vector<T>& values) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(T)));
}

template <class T> std::vector<T> read_raw(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::vector<T> values(static_cast<std::size_t>(in.tellg()) / sizeof(T));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(T)));
  return values;
}

int shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

struct Case {
  std::string model;
  DataType weights;
};

class ExportC : public testing::TestWithParam<Case> {};

TEST_P(ExportC, HostBuildUnderSanitizersEqualsTernBitForBit) {
  const Case& c = GetParam();
  test::TempDir dir("tern-export-c");
  quantize_to(c.model, c.weights, dir / "q.onnx");
  const TernRun tern = run_tern(dir / "q.onnx");

  ExportCOptions options;
  options.name = c.model;
  const ExportCSummary summary = export_c(load_model(dir / "q.onnx"), dir / "c", options);
  ASSERT_EQ(summary.input_size * test_count, tern.int8s.size());
  ASSERT_EQ(summary.output_size * test_count, tern.accs.size());
  if (c.weights == DataType::Int4) { // the weights really are packed: half a byte each
    std::ifstream source(summary.weights);
    const std::string text((std::istreambuf_iterator<char>(source)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("int4, two per byte"), std::string::npos);
    EXPECT_EQ(text.find("const int8_t"), std::string::npos) << "every weight of a W4 model fits int4";
  }

  const std::string n = c.model, N = upper(c.model);
  const std::string compile =
      "gcc -std=c99 -Wall -Wextra -Werror -O2 -g -fsanitize=address,undefined -fno-sanitize-recover=all "
      "-ffp-contract=off -I" +
      (dir / "c").string() + " -DNAME=" + n + " -DINPUT_SIZE=" + N + "_INPUT_SIZE" + " -DOUTPUT_SIZE=" + N +
      "_OUTPUT_SIZE -DARENA_SIZE=" + N + "_ARENA_SIZE " + TERN_SOURCE_DIR + "/tests/export_c/host_harness.c " +
      summary.source.string() + " " + summary.weights.string() + " -o " + (dir / "harness").string();
  ASSERT_EQ(shell(compile), 0) << compile;

  write_raw(dir / "floats.bin",
            std::vector<float>(tern.inputs.begin(), tern.inputs.begin() + float_count * summary.input_size));
  write_raw(dir / "int8s.bin", tern.int8s);
  const std::string run = (dir / "harness").string() + " " + (dir / "floats.bin").string() + " " +
                          (dir / "int8s.bin").string() + " " + std::to_string(test_count) + " " +
                          (dir / "accs.bin").string() + " " + (dir / "logits.bin").string();
  ASSERT_EQ(shell(run), 0) << run;

  const std::vector<std::int32_t> accs = read_raw<std::int32_t>(dir / "accs.bin");
  const std::vector<float> logits = read_raw<float>(dir / "logits.bin");
  ASSERT_EQ(accs.size(), tern.accs.size());
  ASSERT_EQ(logits.size(), float_count * summary.output_size);
  std::size_t int_differences = 0, float_differences = 0;
  for (std::size_t i = 0; i < accs.size(); ++i) int_differences += accs[i] != tern.accs[i];
  for (std::size_t i = 0; i < logits.size(); ++i)
    float_differences += std::memcmp(&logits[i], &tern.logits[i], sizeof(float)) != 0;
  EXPECT_EQ(int_differences, 0u) << "of " << accs.size() << " accumulators";
  EXPECT_EQ(float_differences, 0u) << "of " << logits.size() << " logits";
}

std::string case_name(const testing::TestParamInfo<Case>& info) {
  return info.param.model + (info.param.weights == DataType::Int4 ? "_W4A8" : "_W8A8");
}

INSTANTIATE_TEST_SUITE_P(ExampleModels, ExportC,
                         testing::Values(Case{"convnet", DataType::Int8}, Case{"convnet", DataType::Int4},
                                         Case{"convnet_bn", DataType::Int8}, Case{"convnet_bn", DataType::Int4},
                                         Case{"resnet_tiny", DataType::Int8}, Case{"resnet_tiny", DataType::Int4},
                                         Case{"mobilenet_tiny", DataType::Int8},
                                         Case{"mobilenet_tiny", DataType::Int4}),
                         case_name);

TEST(ExportCPlan, ConvNetArenaIsTheTwoBuffersOfItsMemoryPlan) {
  test::TempDir dir("tern-export-c");
  quantize_to("convnet", DataType::Int8, dir / "q.onnx");
  const ExportCSummary summary = export_c(load_model(dir / "q.onnx"), dir / "c");
  // convnet: input 1x28x28 -> Conv 32x26x26 -> MaxPool 32x13x13 -> Conv 64x11x11 -> MaxPool
  // 64x5x5 -> Flatten 1600 -> Gemm 128 -> Gemm 10 (int32) -> Cast 10 (float). Greedy reuse in
  // that order alternates two buffers: A holds 784, 5408, 1600, 128 and 40 bytes (the
  // largest 32*13*13 = 5408), B 21632 (32*26*26), 7744, 1600 and 40: 5408 + 21632.
  EXPECT_EQ(summary.arena_bytes, 5408u + 21632u);
  EXPECT_EQ(summary.input_size, 784u);
  EXPECT_EQ(summary.output_size, 10u);
}

TEST(ExportCErrors, RefusesFloatOnlyAndUnquantizedModelsAndNamesUnsupportedNodes) {
  test::TempDir dir("tern-export-c");
  try {
    export_c(load_model(model_path("convnet")), dir / "a");
    FAIL() << "a float model was exported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not quantized"), std::string::npos) << e.what();
  }

  quantize_to("convnet", DataType::Int8, dir / "q.onnx");
  Graph fake = load_model(dir / "q.onnx");
  ptq::mark_float_only(fake);
  try {
    export_c(fake, dir / "b");
    FAIL() << "a --fake model was exported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--fake"), std::string::npos) << e.what();
  }

  // Two nodes the C kernels lack (a float round trip in the middle): both named in one line.
  Graph graph = load_model(dir / "q.onnx");
  ptq::cast_to_integer(graph);
  Value& pooled = *graph.find_node("/features/features.0/features.0.2/MaxPool")->output();
  Attributes to_float, to_int8;
  to_float.set("to", std::string("float32"));
  to_int8.set("to", std::string("int8"));
  Node& there = graph.insert_after(pooled, "Cast", to_float, {}, "to_float");
  graph.insert_after(*there.output(), "Cast", to_int8, {}, "back_to_int8");
  try {
    export_c(graph, dir / "c");
    FAIL() << "unsupported nodes were exported";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("2 node(s)"), std::string::npos) << message;
    EXPECT_NE(message.find("'to_float' (Cast)"), std::string::npos) << message;
    EXPECT_NE(message.find("'back_to_int8' (Cast)"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "c")) << "nothing is written when the export fails";
}

} // namespace
} // namespace tern
