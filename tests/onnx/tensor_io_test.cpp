// tern_onnx_io: TensorProto files <-> tern::Tensor.
#include "model_builder.hpp"

#include <tern/onnx_tensor.hpp>
#include <tern/tern.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tern::onnx_test {
namespace {

using ::testing::HasSubstr;

TEST(OnnxTensorIo, WriteThenReadKeepsTypeShapeValuesAndName) {
  TempDir dir;
  const Tensor floats = Tensor::from_floats(Shape{2, 3}, {1, -2, 3.5f, 0, 1e-3f, -7});
  write_tensor_pb(dir / "f.pb", floats, "input");
  const NamedTensor back = read_named_tensor_pb(dir / "f.pb");
  EXPECT_EQ(back.name, "input");
  EXPECT_EQ(back.tensor.dtype(), DataType::Float32);
  EXPECT_EQ(back.tensor.shape(), (Shape{2, 3}));
  EXPECT_EQ(back.tensor.to_doubles(), floats.to_doubles());

  const Tensor flags = Tensor::from(Shape{3}, DataType::Bool, std::vector<bool>{true, false, true});
  write_tensor_pb(dir / "b.pb", flags);
  EXPECT_EQ(read_tensor_pb(dir / "b.pb").to_int64s(), (std::vector<std::int64_t>{1, 0, 1}));

  const Tensor scalar = Tensor::from(Shape{}, DataType::Int64, std::vector<std::int64_t>{-5});
  const Tensor back_scalar = parse_tensor_pb(serialize_tensor_pb(scalar), "scalar").tensor;
  EXPECT_EQ(back_scalar.shape(), Shape{});
  EXPECT_EQ(back_scalar.to_int64s(), std::vector<std::int64_t>{-5});
}

TEST(OnnxTensorIo, ReadsTypedFields) {
  onnx::TensorProto proto;
  proto.set_data_type(onnx::TensorProto::UINT8);
  proto.add_dims(3);
  for (int v : {0, 128, 255}) proto.add_int32_data(v);
  const Tensor tensor = parse_tensor_pb(proto.SerializeAsString(), "u8").tensor;
  EXPECT_EQ(tensor.dtype(), DataType::UInt8);
  EXPECT_EQ(tensor.to_int64s(), (std::vector<std::int64_t>{0, 128, 255}));
}

TEST(OnnxTensorIo, RefusesWhatItCannotRepresent) {
  EXPECT_THROW((void)parse_tensor_pb("", "empty.pb"), Error);
  EXPECT_THROW((void)parse_tensor_pb(std::string("\xff\xff\xff\xff", 4), "junk.pb"), Error);

  onnx::TensorProto half;
  half.set_name("h");
  half.set_data_type(onnx::TensorProto::FLOAT16);
  half.add_dims(1);
  half.set_raw_data(std::string(2, '\0'));
  try {
    (void)parse_tensor_pb(half.SerializeAsString(), "half.pb");
    FAIL() << "float16 was accepted";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("half.pb: tensor 'h' has ONNX type FLOAT16, which Tern does not support"));
  }

  onnx::TensorProto short_data = half;
  short_data.set_data_type(onnx::TensorProto::FLOAT);
  short_data.add_dims(2); // [1, 2] floats need 8 bytes, it has 2
  EXPECT_THROW((void)parse_tensor_pb(short_data.SerializeAsString(), "short.pb"), Error);

  const Tensor int4 = Tensor::from(Shape{1}, DataType::Int4, std::vector<std::int8_t>{3});
  EXPECT_THROW((void)serialize_tensor_pb(int4, "q"), Error);
}

TEST(OnnxTensorIo, ReadsOnnxTestData) {
  const std::filesystem::path file =
      std::filesystem::path(TERN_ONNX_NODE_TESTS) / "test_relu" / "test_data_set_0" / "input_0.pb";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << file << " is not installed (libonnx-testdata)";
  const NamedTensor input = read_named_tensor_pb(file);
  EXPECT_EQ(input.name, "x");
  EXPECT_EQ(input.tensor.dtype(), DataType::Float32);
  EXPECT_EQ(input.tensor.shape(), (Shape{3, 4, 5}));
}

} // namespace
} // namespace tern::onnx_test
