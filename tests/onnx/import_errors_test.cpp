// Every way a model file is refused, with the message a user sees.
#include "model_builder.hpp"

#include <tern/tern.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "error_testing.hpp"

#include <chrono>
#include <cstdlib>
#include <limits>
#include <optional>
#include <random>

using tern::test::ScopedEnv;

namespace tern::onnx_test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

/// The tern::Error message of loading `path`; fails the test when it loads.
std::string load_error(const std::filesystem::path& path) {
  try {
    (void)load_model(path);
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << path << " loaded, but should have been refused";
  return {};
}

/// A valid model whose 4 KiB initializer makes any cut land inside it.
ModelBuilder model_with_weights() {
  ModelBuilder m(13);
  m.input("x", {1, 1024}).output("y", {1, 1024});
  m.floats("w", {1, 1024}, std::vector<float>(1024, 0.5f));
  m.node("Add", {"x", "w"}, {"y"});
  return m;
}

// Each of these passes ONNX's checker and divided by zero inside libonnx's shape
// inference (SIGFPE, uncatchable) before Tern looked at it.
TEST(OnnxImportErrors, ZeroStridesDilationsKernelsOrGroupsAreRefusedBeforeShapeInference) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::vector<std::int64_t>>> cases{
      {"strides", {0, 1}}, {"dilations", {1, 0}}, {"kernel_shape", {0, 3}}};
  for (const std::string op : {"Conv", "MaxPool"})
    for (const auto& [key, values] : cases) {
      ModelBuilder m(13);
      m.input("x", {1, 1, 8, 8}).output("y", {1, 1, 0, 0});
      std::vector<std::string> inputs{"x"};
      if (op == "Conv") {
        m.floats("w", {1, 1, 3, 3}, std::vector<float>(9, 1.0f));
        inputs.push_back("w");
      }
      onnx::NodeProto& node = m.node(op, inputs, {"y"}, "window");
      if (key != "kernel_shape") set_attr(node, "kernel_shape", std::vector<std::int64_t>{3, 3});
      set_attr(node, key, values);
      const auto path = m.save(dir / (op + "_" + key + ".onnx"));
      EXPECT_THAT(load_error(path), HasSubstr("node 'window' (" + op + "): attribute '" + key +
                                              "' holds 0; each "
                                              "value must be at least 1"));
    }
  ModelBuilder m(13);
  m.input("x", {1, 2, 8, 8}).output("y", {1, 2, 6, 6});
  m.floats("w", {2, 1, 3, 3}, std::vector<float>(18, 1.0f));
  set_attr(m.node("Conv", {"x", "w"}, {"y"}, "grouped"), "group", std::int64_t{0});
  EXPECT_THAT(load_error(m.save(dir / "group0.onnx")),
              HasSubstr("node 'grouped' (Conv): attribute 'group' is 0; it must be at least 1"));
}

TEST(OnnxImportErrors, EmptyFile) {
  TempDir dir;
  const auto path = write_bytes(dir / "empty.onnx", "");
  EXPECT_EQ(load_error(path), path.string() + ": not a valid ONNX model: the file is empty");
}

TEST(OnnxImportErrors, TruncatedFile) {
  TempDir dir;
  const std::string full = model_with_weights().proto().SerializeAsString();
  const auto path = write_bytes(dir / "cut.onnx", full.substr(0, full.size() / 2));
  EXPECT_THAT(load_error(path), StartsWith(path.string() + ": not a valid ONNX model: the "));
  EXPECT_THAT(load_error(path), HasSubstr("truncated"));
}

TEST(OnnxImportErrors, RandomBytes) {
  TempDir dir;
  std::mt19937 random(42);
  std::string bytes(4096, '\0');
  for (char& c : bytes) c = static_cast<char>(random() & 0xff);
  const auto path = write_bytes(dir / "noise.onnx", bytes);
  EXPECT_THAT(load_error(path), StartsWith(path.string() + ": not a valid ONNX model: "));
}

TEST(OnnxImportErrors, PngImage) {
  TempDir dir;
  const auto path = write_bytes(dir / "picture.onnx", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  EXPECT_EQ(load_error(path), path.string() + ": not a valid ONNX model: it is a PNG image");
}

TEST(OnnxImportErrors, ZipArchive) {
  TempDir dir;
  const auto path = write_bytes(dir / "archive.onnx", std::string("PK\x03\x04\x14\0\0\0", 8));
  EXPECT_THAT(load_error(path), HasSubstr(": not a valid ONNX model: it is a zip archive"));
}

TEST(OnnxImportErrors, MissingFile) {
  TempDir dir;
  EXPECT_THAT(load_error(dir / "absent.onnx"), HasSubstr("absent.onnx: not a valid ONNX model: no such file"));
}

/// A model whose 4-float initializer 'weights' lives in external file `location` (with the
/// extra external-data entries given).
ModelBuilder model_with_external_weights(const std::string& location,
                                         const std::vector<std::pair<std::string, std::string>>& entries = {}) {
  ModelBuilder m(13);
  m.input("x", {4}).output("y", {4});
  onnx::TensorProto& w = *m.proto().mutable_graph()->add_initializer();
  w.set_name("weights");
  w.set_data_type(onnx::TensorProto::FLOAT);
  w.add_dims(4);
  w.set_data_location(onnx::TensorProto::EXTERNAL);
  std::vector<std::pair<std::string, std::string>> all{{"location", location}};
  all.insert(all.end(), entries.begin(), entries.end());
  for (const auto& [key, value] : all) {
    onnx::StringStringEntryProto& entry = *w.add_external_data();
    entry.set_key(key);
    entry.set_value(value);
  }
  m.node("Add", {"x", "weights"}, {"y"});
  return m;
}

// A model may only read external data beside it: '..' and symlinks leading out are refused
// even when the file they reach has exactly the bytes the tensor needs.
TEST(OnnxImportErrors, ExternalDataOutsideTheModelsFolderIsRefused) {
  TempDir dir;
  std::filesystem::create_directories(dir / "model");
  write_bytes(dir / "secret.bin", std::string(16, 'S'));
  const auto dotdot = model_with_external_weights("../secret.bin").save(dir / "model" / "dotdot.onnx");
  EXPECT_THAT(load_error(dotdot), HasSubstr("outside the model's folder"));
  std::filesystem::create_symlink(dir / "secret.bin", dir / "model" / "link.bin");
  const auto linked = model_with_external_weights("link.bin").save(dir / "model" / "linked.onnx");
  EXPECT_THAT(load_error(linked), HasSubstr("outside the model's folder"));
  for (const auto& path : {dotdot, linked}) EXPECT_EQ(load_error(path).find('\n'), std::string::npos);
  // The same bytes inside the folder load.
  write_bytes(dir / "model" / "weights.bin", std::string(16, '\0'));
  EXPECT_NO_THROW((void)load_model(model_with_external_weights("weights.bin").save(dir / "model" / "inside.onnx")));
}

TEST(OnnxImportErrors, ExternalDataOffsetsThatAreNoNumbersOrOverflowAreOneLineErrors) {
  TempDir dir;
  write_bytes(dir / "weights.bin", std::string(16, '\0'));
  const auto text = model_with_external_weights("weights.bin", {{"offset", "ten"}}).save(dir / "text.onnx");
  EXPECT_THAT(load_error(text),
              HasSubstr("tensor 'weights': its external-data 'offset' is not a non-negative integer"));
  const auto huge = model_with_external_weights("weights.bin", {{"offset", "8"}, {"length", "9223372036854775807"}})
                        .save(dir / "huge.onnx");
  EXPECT_THAT(load_error(huge), HasSubstr("bytes from offset 8 of external file 'weights.bin', which has only 16"));
  const auto beyond =
      model_with_external_weights("weights.bin", {{"offset", "99999999999999999999"}}).save(dir / "b.onnx");
  EXPECT_THAT(load_error(beyond), HasSubstr("'offset' is not a non-negative integer that fits int64"));
}

// What a tensor reads from its external file is compared with its dims and type, and with
// the per-tensor ceiling, before anything is read or allocated.
TEST(OnnxImportErrors, ExternalDataSizeIsCheckedAgainstTheDimsAndTheCeilingBeforeReading) {
  TempDir dir;
  write_bytes(dir / "weights.bin", std::string(64, '\0'));
  const auto rest = model_with_external_weights("weights.bin").save(dir / "rest.onnx");
  EXPECT_THAT(load_error(rest), HasSubstr("tensor 'weights' reads 64 bytes from external file 'weights.bin', but its "
                                          "dims and data type call for 16"));
  const auto longer = model_with_external_weights("weights.bin", {{"length", "32"}}).save(dir / "long.onnx");
  EXPECT_THAT(load_error(longer), HasSubstr("reads 32 bytes from external file 'weights.bin', but its dims and data "
                                            "type call for 16"));
  const auto exact = model_with_external_weights("weights.bin", {{"offset", "48"}}).save(dir / "exact.onnx");
  EXPECT_NO_THROW((void)load_model(exact));
  const ScopedEnv limit("TERN_MAX_TENSOR_BYTES", "8");
  EXPECT_THAT(load_error(exact), HasSubstr("reads 16 bytes from external file 'weights.bin', over the limit of 8 "
                                           "bytes per tensor (TERN_MAX_TENSOR_BYTES)"));
}

TEST(OnnxImportErrors, MissingExternalData) {
  TempDir dir;
  const auto path = model_with_external_weights("weights.bin").save(dir / "model.onnx");
  const std::string message = load_error(path);
  EXPECT_THAT(message, StartsWith(path.string() + ": tensor 'weights' keeps its data in external file 'weights.bin'"));
  EXPECT_THAT(message, HasSubstr("missing"));
  EXPECT_THAT(message, HasSubstr((dir / "weights.bin").string()));
}

TEST(OnnxImportErrors, CheckerFailure) {
  ModelBuilder m(13);
  m.input("x", {4}).output("y", {4});
  m.node("Add", {"x", "ghost"}, {"y"}, "add"); // 'ghost' is produced by nothing
  TempDir dir;
  const auto path = m.save(dir / "model.onnx");
  const std::string message = load_error(path);
  EXPECT_THAT(message, StartsWith(path.string() + ": fails the ONNX checker: "));
  EXPECT_THAT(message, HasSubstr("ghost"));
}

TEST(OnnxImportErrors, ListsEveryUnsupportedOpTypeOnce) {
  ModelBuilder m(13);
  m.input("x", {1, 2, 3}).output("y", {1, 2, 3}).output("z", {2, 2});
  m.floats("w", {1, 12, 3}, std::vector<float>(36, 0.1f)).floats("r", {1, 12, 3}, std::vector<float>(36, 0.1f));
  set_attr(m.node("LSTM", {"x", "w", "r"}, {"h1"}, "lstm_1"), "hidden_size", std::int64_t{3});
  m.node("Relu", {"x"}, {"y"}, "relu");
  set_attr(m.node("LSTM", {"x", "w", "r"}, {"h2"}, "lstm_2"), "hidden_size", std::int64_t{3});
  m.floats("a", {2, 2}, {1, 2, 3, 4});
  set_attr(m.node("Einsum", {"a"}, {"z"}, "e"), "equation", std::string("ij->ji"));
  TempDir dir;
  const auto path = m.save(dir / "model.onnx");
  EXPECT_EQ(load_error(path),
            path.string() + ": 2 unsupported op types: LSTM (2 nodes, first 'lstm_1'), Einsum (1 node, first 'e')");
}

TEST(OnnxImportErrors, Opset18) {
  ModelBuilder m(18);
  m.input("x", {4}).output("y", {4});
  m.node("Relu", {"x"}, {"y"});
  TempDir dir;
  const auto path = m.save(dir / "model.onnx");
  EXPECT_EQ(load_error(path),
            path.string() + ": uses opset 18 of the default ONNX domain; Tern reads opsets 7 to 17 (ONNX 1.12)");
}

TEST(OnnxImportErrors, OpsetBelow7) {
  ModelBuilder m(6);
  m.input("x", {4}).output("y", {4});
  m.node("Relu", {"x"}, {"y"});
  TempDir dir;
  const auto path = m.save(dir / "model.onnx");
  EXPECT_THAT(load_error(path), HasSubstr(": uses opset 6 of the default ONNX domain; Tern reads opsets 7 to 17"));
}

TEST(OnnxImportErrors, OtherDomain) {
  ModelBuilder m(13);
  onnx::OperatorSetIdProto& custom = *m.proto().add_opset_import();
  custom.set_domain("com.example");
  custom.set_version(1);
  m.input("x", {4}).output("y", {4});
  m.node("Fancy", {"x"}, {"y"}, "fancy").set_domain("com.example");
  TempDir dir;
  const auto path = m.save(dir / "model.onnx");
  EXPECT_EQ(load_error(path),
            path.string() +
                ": node 'fancy' (Fancy) is in domain 'com.example'; Tern reads only the default ONNX domain");
}

TEST(OnnxImportErrors, SchemaRejectionNamesTheNode) {
  ModelBuilder m(13);
  m.input("x", {1, 3, 4, 4}).output("y", {1, 2, 4, 4});
  m.floats("w", {2, 5, 1, 1}, std::vector<float>(10, 1.0f)); // 5 input channels, x has 3
  m.node("Conv", {"x", "w"}, {"y"}, "conv1");
  TempDir dir;
  const auto path = m.save(dir / "model.onnx");
  const std::string message = load_error(path);
  EXPECT_THAT(message, StartsWith(path.string() + ": "));
  EXPECT_THAT(message, HasSubstr("node 'conv1' (Conv)"));
  EXPECT_THAT(message, HasSubstr("channels"));
}

TEST(OnnxImportErrors, NonDefaultUnmodelledAttribute) {
  ModelBuilder m(7);
  m.input("x", {1, 2, 3}).output("y", {1, 2, 3});
  for (const char* name : {"s", "b", "mean", "var"}) m.floats(name, {2}, {1.0f, 0.5f});
  set_attr(m.node("BatchNormalization", {"x", "s", "b", "mean", "var"}, {"y"}, "bn"), "spatial", std::int64_t{0});
  TempDir dir;
  const auto path = m.save(dir / "model.onnx");
  EXPECT_EQ(load_error(path), path.string() +
                                  ": node 'bn' (BatchNormalization): attribute 'spatial' is 0; Tern does not model it "
                                  "and accepts only its ONNX default 1");
}

TEST(OnnxImportErrors, UnsupportedElementType) {
  ModelBuilder m(13);
  m.input("x", {4}, onnx::TensorProto::FLOAT16).output("y", {4}, onnx::TensorProto::FLOAT16);
  m.node("Relu", {"x"}, {"y"});
  TempDir dir;
  const auto path = m.save(dir / "model.onnx");
  EXPECT_EQ(load_error(path), path.string() + ": graph input 'x' has ONNX type FLOAT16, which Tern does not support");
}

TEST(OnnxImportErrors, CastToUnsupportedType) {
  ModelBuilder m(13);
  m.input("x", {4}).output("y", {4}, onnx::TensorProto::FLOAT16);
  set_attr(m.node("Cast", {"x"}, {"y"}, "to_half"), "to", std::int64_t{onnx::TensorProto::FLOAT16});
  TempDir dir;
  const auto path = m.save(dir / "model.onnx");
  EXPECT_EQ(load_error(path),
            path.string() + ": node 'to_half' (Cast): casts to ONNX type FLOAT16, which Tern does not support");
}

/// x[1] + w: a model whose one initializer the caller shapes.
ModelBuilder adds_initializer() {
  ModelBuilder m(13);
  m.input("x", {1}).output("y", {1});
  m.node("Add", {"x", "w"}, {"y"});
  return m;
}

/// The one-line load error of `path`, which must come within a second.
std::string quick_one_line_error(const std::filesystem::path& path) {
  std::string message;
  const auto start = std::chrono::steady_clock::now();
  message = load_error(path);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  return message;
}

// Dims promising 8 GiB over 16 bytes of data used to allocate (and zero) the 8 GiB before
// comparing. Under a 1-byte tensor limit, only a refusal before allocating says "16 bytes".
TEST(OnnxImportErrors, InitializerDimsArePairedWithItsDataBeforeAllocating) {
  TempDir dir;
  const ScopedEnv limit("TERN_MAX_TENSOR_BYTES", "1");
  ModelBuilder raw = adds_initializer();
  raw.floats("w", {1024, 1024, 2048}, {1, 2, 3, 4});
  const auto raw_path = raw.save(dir / "raw.onnx");
  EXPECT_EQ(quick_one_line_error(raw_path),
            raw_path.string() + ": initializer 'w' holds 16 bytes of raw data, but [1024,1024,2048] float32 needs "
                                "8589934592");
  ModelBuilder typed(13);
  typed.input("x", {1}, onnx::TensorProto::INT64).output("y", {1}, onnx::TensorProto::INT64);
  typed.int64s("w", {std::int64_t{1} << 30, 8}, {1, 2});
  typed.node("Add", {"x", "w"}, {"y"});
  const auto typed_path = typed.save(dir / "typed.onnx");
  EXPECT_EQ(quick_one_line_error(typed_path),
            typed_path.string() + ": initializer 'w' holds 2 values, but its shape [1073741824,8] needs 8589934592");
  ModelBuilder wraps = adds_initializer();
  wraps.floats("w", {std::int64_t{1} << 32, std::int64_t{1} << 32, 2}, {});
  const auto wraps_path = wraps.save(dir / "wraps.onnx");
  EXPECT_EQ(quick_one_line_error(wraps_path),
            wraps_path.string() +
                ": initializer 'w' has dims [4294967296,4294967296,2] float32 whose element count overflows int64");
}

TEST(OnnxImportErrors, InitializersObeyTernMaxTensorBytes) {
  TempDir dir;
  ModelBuilder m = adds_initializer();
  m.floats("w", {1, 64}, std::vector<float>(64, 1.0f));
  const auto path = m.save(dir / "model.onnx");
  EXPECT_NO_THROW((void)load_model(path));
  const ScopedEnv limit("TERN_MAX_TENSOR_BYTES", "100");
  EXPECT_EQ(quick_one_line_error(path), path.string() + ": initializer 'w': a float32[1,64] tensor needs 256 bytes, "
                                                        "over the limit of 100 bytes (TERN_MAX_TENSOR_BYTES)");
}

// pads of INT64_MIN summed (wrapping) to 0, so the Pad loaded as a no-op.
TEST(OnnxImportErrors, PadsThatOverflowAreRefusedNamingTheNode) {
  constexpr std::int64_t low = std::numeric_limits<std::int64_t>::min();
  ModelBuilder m(13);
  m.input("x", {3, 2}).output("y", {3, 2});
  m.int64s("pads", {4}, {low, 0, low, 0});
  m.node("Pad", {"x", "pads"}, {"y"}, "pad");
  TempDir dir;
  const auto path = m.save(dir / "model.onnx");
  EXPECT_EQ(quick_one_line_error(path),
            path.string() + ": node 'pad' (Pad): pads [-9223372036854775808,0,-9223372036854775808,0] on axis 0 of "
                            "input 0 ('x', float32[3,2]): -9223372036854775808 + -9223372036854775808 overflows int64");
}

TEST(OnnxImportErrors, NegativeInputDimensionsAreRefused) {
  ModelBuilder m(13);
  m.input("x", {1, -5}).output("y", {1, -5});
  m.node("Relu", {"x"}, {"y"});
  TempDir dir;
  const auto path = m.save(dir / "model.onnx");
  EXPECT_EQ(quick_one_line_error(path), path.string() + ": graph input 'x' declares shape [1,-5] with the negative "
                                                        "dimension -5 (dimensions are >= 0, or dynamic)");
}

} // namespace
} // namespace tern::onnx_test
