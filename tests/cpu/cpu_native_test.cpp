// The cpu plugin's native kernels (backends/cpu/native), each run through the
// SequentialScheduler on backend "cpu" (loaded by name from the build tree). Expected values
// come from the ONNX operator documentation (its examples) or from naive loops written
// here, never from Tern's own output.
#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include "graphs.hpp"
#include "integer_reference.hpp"
#include "op_testing.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace tern::test;

namespace {

using tern::Attributes;
using tern::DataType;
using tern::Shape;
using tern::Tensor;

/// 0, 1, 2, ... as float32 of `shape`.
Tensor iota(const Shape& shape) {
  std::vector<float> v(static_cast<std::size_t>(shape.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return floats(shape, v);
}

// --- data movement --------------------------------------------------------------------

TEST(CpuNative, Transpose4DFollowsThePermutation) {
  const Shape shape{2, 3, 4, 5};
  const Tensor x = tern::test::random_tensor(shape, 7);
  const Ints perm{2, 0, 3, 1};
  const Tensor y = run_one("Transpose", {input("x", x)}, attrs({{"perm", perm}}));
  ASSERT_EQ(y.shape(), (Shape{4, 2, 5, 3}));
  const float* in = x.data<float>();
  const float* out = y.data<float>();
  // out[a][b][c][d] = in[b][d][a][c] (output axis k is input axis perm[k]).
  for (std::int64_t a = 0; a < 4; ++a)
    for (std::int64_t b = 0; b < 2; ++b)
      for (std::int64_t c = 0; c < 5; ++c)
        for (std::int64_t d = 0; d < 3; ++d)
          ASSERT_EQ(out[((a * 2 + b) * 5 + c) * 3 + d], in[((b * 3 + d) * 4 + a) * 5 + c]);
}

TEST(CpuNative, LargeTransposeRunsInParallelLikeTheLoop) {
  // Above the kernels' threshold for OpenMP.
  const Tensor x = tern::test::random_tensor({64, 32, 48}, 9);
  const Tensor y = run_one("Transpose", {input("x", x)}, attrs({{"perm", Ints{2, 0, 1}}}));
  ASSERT_EQ(y.shape(), (Shape{48, 64, 32}));
  for (std::int64_t a = 0; a < 48; ++a)
    for (std::int64_t b = 0; b < 64; ++b)
      for (std::int64_t c = 0; c < 32; ++c)
        ASSERT_EQ(y.data<float>()[(a * 64 + b) * 32 + c], x.data<float>()[(b * 32 + c) * 48 + a]);
}

TEST(CpuNative, TransposeDefaultReversesAxesOfAnyDtype) {
  const Tensor x = Tensor::from(Shape{2, 3}, DataType::Int8, std::vector<std::int8_t>{1, 2, 3, 4, 5, 6});
  const Tensor y = run_one("Transpose", {input("x", x)});
  ASSERT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(values<std::int8_t>(y), (std::vector<std::int8_t>{1, 4, 2, 5, 3, 6}));
}

/// Every perm of a rank-4 `dtype` tensor of `shape` against the index arithmetic.
void expect_every_permutation(const Shape& shape, DataType dtype) {
  std::vector<std::int64_t> data(static_cast<std::size_t>(shape.numel()));
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::int64_t>(i * 7 % 251);
  const Tensor x = tern::test::typed(shape, dtype, data);
  const std::vector<std::int64_t> in_strides{shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1};
  Ints perm{0, 1, 2, 3};
  do {
    SCOPED_TRACE(::testing::PrintToString(perm) + " of " + shape.to_string());
    const std::vector<std::int64_t> out = run_one("Transpose", {input("x", x)}, attrs({{"perm", perm}})).to_int64s();
    std::size_t k = 0;
    std::int64_t index[4];
    for (index[0] = 0; index[0] < shape[static_cast<std::size_t>(perm[0])]; ++index[0])
      for (index[1] = 0; index[1] < shape[static_cast<std::size_t>(perm[1])]; ++index[1])
        for (index[2] = 0; index[2] < shape[static_cast<std::size_t>(perm[2])]; ++index[2])
          for (index[3] = 0; index[3] < shape[static_cast<std::size_t>(perm[3])]; ++index[3], ++k) {
            std::int64_t source = 0;
            for (std::size_t d = 0; d < 4; ++d) source += index[d] * in_strides[static_cast<std::size_t>(perm[d])];
            ASSERT_EQ(out[k], data[static_cast<std::size_t>(source)]) << "at output element " << k;
          }
  } while (std::next_permutation(perm.begin(), perm.end()));
}

// Tensors of 1- and 4-byte elements take a tiled path where the perm swaps two runs of axes
// (to and from channels last among them), a copy where one run has a single element (one
// channel, a 1x1 plane), and the row loop otherwise: every perm of rank 4 against the index
// arithmetic, at sizes that leave partial tiles.
TEST(CpuNative, TransposesFollowEveryPermutation) {
  for (const DataType dtype : {DataType::UInt8, DataType::Int32}) {
    expect_every_permutation(Shape{3, 17, 5, 19}, dtype);
    expect_every_permutation(Shape{2, 1, 6, 7}, dtype);
    expect_every_permutation(Shape{2, 9, 1, 1}, dtype);
  }
}

TEST(CpuNative, PadReflectAndEdgeOnTheOnnxExampleData) {
  // The data of the ONNX Pad documentation examples (its own "reflect" example, padding 2 on
  // an axis of 2, is in cpu_ops3_test.cpp); reflect here pads 1 before both axes, worked
  // out by hand: row -1 is row 1, column -1 is column 1.
  const Tensor x = floats({3, 2}, {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f});
  const Tensor reflect = run_one("Pad", {input("x", x), constant("pads", int64s({1, 1, 0, 0}))},
                                 attrs({{"mode", std::string("reflect")}}));
  expect_floats_near(reflect, {4, 3}, {3.4f, 2.3f, 3.4f, 1.2f, 1.0f, 1.2f, 3.4f, 2.3f, 3.4f, 5.7f, 4.5f, 5.7f}, 0);
  // ONNX's "edge" example: pads = [0, 2, 0, 0].
  const Tensor edge =
      run_one("Pad", {input("x", x), constant("pads", int64s({0, 2, 0, 0}))}, attrs({{"mode", std::string("edge")}}));
  expect_floats_near(edge, {3, 4}, {1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f}, 0);
}

TEST(CpuNative, PadReflectsOnBothSidesOfEveryAxis) {
  // Reflect mirrors without repeating the edge: index -i reads i, index n-1+i reads n-1-i.
  const Tensor x = iota({3, 4});
  const Tensor y = run_one("Pad", {input("x", x), constant("pads", int64s({2, 1, 1, 3}))},
                           attrs({{"mode", std::string("reflect")}}));
  ASSERT_EQ(y.shape(), (Shape{6, 8}));
  const auto mirror = [](std::int64_t i, std::int64_t n) { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i); };
  for (std::int64_t r = 0; r < 6; ++r)
    for (std::int64_t c = 0; c < 8; ++c)
      EXPECT_EQ(y.data<float>()[r * 8 + c], static_cast<float>(mirror(r - 2, 3) * 4 + mirror(c - 1, 4)))
          << r << "," << c;
}

TEST(CpuNative, PadConstantFillsAndNegativePadsCrop) {
  const Tensor x = Tensor::from(Shape{2, 3}, DataType::Int32, std::vector<std::int32_t>{1, 2, 3, 4, 5, 6});
  const Tensor value = Tensor::from(Shape{}, DataType::Int32, std::vector<std::int32_t>{-7});
  // Axis 1 only (the axes input): one column of -7 before, the last column cropped.
  const Tensor y = run_one("Pad", {input("x", x), constant("pads", int64s({1, -1})), constant("value", value),
                                   constant("axes", int64s({1}))});
  ASSERT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<std::int32_t>(y), (std::vector<std::int32_t>{-7, 1, 2, -7, 4, 5}));
}

TEST(CpuNative, ReshapeFlattenSqueezeUnsqueezeKeepTheElements) {
  const Tensor x = iota({2, 1, 3});
  const std::vector<float> expected = values<float>(x);
  const Tensor reshaped = run_one("Reshape", {input("x", x), constant("shape", int64s({3, -1}))});
  EXPECT_EQ(reshaped.shape(), (Shape{3, 2}));
  EXPECT_EQ(values<float>(reshaped), expected);
  const Tensor shape32 = Tensor::from(Shape{2}, DataType::Int32, std::vector<std::int32_t>{0, -1});
  EXPECT_EQ(run_one("Reshape", {input("x", x), constant("shape", shape32)}).shape(), (Shape{2, 3}));
  EXPECT_EQ(run_one("Flatten", {input("x", x)}, attrs({{"axis", std::int64_t{2}}})).shape(), (Shape{2, 3}));
  const Tensor squeezed = run_one("Squeeze", {input("x", x), constant("axes", int64s({-2}))});
  EXPECT_EQ(squeezed.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(squeezed), expected);
  EXPECT_EQ(run_one("Squeeze", {input("x", x)}).shape(), (Shape{2, 3}));
  const Tensor unsqueezed = run_one("Unsqueeze", {input("x", x), constant("axes", int64s({0, 4}))});
  EXPECT_EQ(unsqueezed.shape(), (Shape{1, 2, 1, 3, 1}));
  EXPECT_EQ(values<float>(unsqueezed), expected);
  const Tensor flags = Tensor::from(Shape{2}, DataType::Bool, std::vector<bool>{true, false});
  EXPECT_EQ(values<bool>(run_one("Identity", {input("x", flags)})), (std::vector<bool>{true, false}));
}

TEST(CpuNative, DropoutCopiesAndItsMaskIsAllTrue) {
  const Tensor x = floats({2, 2}, {1, -2, 3, -4});
  const std::vector<Tensor> y = run_op("Dropout", {input("x", x), constant("ratio", floats({}, {0.5f}))}, {}, 2);
  EXPECT_EQ(values<float>(y[0]), (std::vector<float>{1, -2, 3, -4}));
  ASSERT_EQ(y[1].dtype(), DataType::Bool);
  EXPECT_EQ(values<bool>(y[1]), (std::vector<bool>{true, true, true, true}));
}

TEST(CpuNative, ConstantAndShape) {
  const Tensor value = int64s({2, 2}, {5, 6, 7, 8});
  const std::vector<Tensor> c = run_op("Constant", {}, attrs({{"value", value}}));
  EXPECT_EQ(c[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(values<std::int64_t>(c[0]), (Ints{5, 6, 7, 8}));
  const Tensor x = iota({2, 3, 4, 5});
  EXPECT_EQ(values<std::int64_t>(run_one("Shape", {input("x", x)})), (Ints{2, 3, 4, 5}));
  // ONNX Shape-15: start/end slice the dimensions like Python.
  EXPECT_EQ(values<std::int64_t>(
                run_one("Shape", {input("x", x)}, attrs({{"start", std::int64_t{1}}, {"end", std::int64_t{-1}}}))),
            (Ints{3, 4}));
}

// --- values changing type -------------------------------------------------------------

TEST(CpuNative, RoundTiesGoToEven) {
  const Tensor x = floats({9}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.4f, -0.6f, 2.3f});
  const Tensor y = run_one("Round", {input("x", x)});
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 2, 2, -0.0f, -2, -2, 0, -1, 2}));
}

TEST(CpuNative, CastTruncatesAndSaturates) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = floats({6}, {300.f, -300.f, 1.9f, -1.9f, nan, 127.5f});
  const Tensor to_int8 = run_one("Cast", {input("x", x)}, attrs({{"to", std::string("int8")}}));
  ASSERT_EQ(to_int8.dtype(), DataType::Int8);
  EXPECT_EQ(values<std::int8_t>(to_int8), (std::vector<std::int8_t>{127, -128, 1, -1, 0, 127}));
  const Tensor to_uint8 = run_one("Cast", {input("x", x)}, attrs({{"to", std::string("uint8")}}));
  EXPECT_EQ(values<std::uint8_t>(to_uint8), (std::vector<std::uint8_t>{255, 0, 1, 0, 0, 127}));
  const Tensor wide = int64s({3}, {1000, -1000, 42});
  const Tensor narrowed = run_one("Cast", {input("x", wide)}, attrs({{"to", std::string("int8")}}));
  EXPECT_EQ(values<std::int8_t>(narrowed), (std::vector<std::int8_t>{127, -128, 42}));
  const Tensor flags =
      run_one("Cast", {input("x", floats({3}, {0.f, -2.f, 0.25f}))}, attrs({{"to", std::string("bool")}}));
  EXPECT_EQ(values<bool>(flags), (std::vector<bool>{false, true, true}));
}

// --- broadcasting float32 math --------------------------------------------------------

TEST(CpuNative, MeanBroadcastsItsInputs) {
  const Tensor a = tern::test::random_tensor({2, 3}, 1);
  const Tensor b = tern::test::random_tensor({3}, 2);
  const Tensor c = tern::test::random_tensor({2, 1}, 3);
  const Tensor y = run_one("Mean", {input("a", a), input("b", b), input("c", c)});
  ASSERT_EQ(y.shape(), (Shape{2, 3}));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      const float sum = a.data<float>()[i * 3 + j] + b.data<float>()[j] + c.data<float>()[i];
      EXPECT_NEAR(y.data<float>()[i * 3 + j], sum / 3.0f, 1e-6f);
    }
}

TEST(CpuNative, MinMaxSumAndPowBroadcast) {
  const Tensor a = floats({2, 1}, {1, -5});
  const Tensor b = floats({3}, {0, 2, -7});
  EXPECT_EQ(values<float>(run_one("Min", {input("a", a), input("b", b)})), (std::vector<float>{0, 1, -7, -5, -5, -7}));
  EXPECT_EQ(values<float>(run_one("Max", {input("a", a), input("b", b)})), (std::vector<float>{1, 2, 1, 0, 2, -5}));
  EXPECT_EQ(values<float>(run_one("Sum", {input("a", a), input("b", b)})), (std::vector<float>{1, 3, -6, -5, -3, -12}));
  EXPECT_EQ(values<float>(run_one("Sum", {input("a", a)})), (std::vector<float>{1, -5}));
  // ONNX Pow example "pow_broadcast": x = [[1,2,3],[4,5,6]], y = [1,2,3] (int64 here).
  const Tensor x = floats({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor y = run_one("Pow", {input("x", x), input("y", int64s({1, 2, 3}))});
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 4, 27, 4, 25, 216}));
  const Tensor root = run_one("Pow", {input("x", x), input("e", floats({}, {0.5f}))});
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(root.data<float>()[i], std::sqrt(static_cast<float>(i + 1)), 1e-6f);
}

// --- gather, slice, reduce ------------------------------------------------------------

TEST(CpuNative, GatherTakesNegativeIndicesFromTheEnd) {
  const Tensor data = iota({3, 4});
  const Tensor rows = run_one("Gather", {input("data", data), input("idx", int64s({2, 2}, {0, -1, -3, 1}))});
  ASSERT_EQ(rows.shape(), (Shape{2, 2, 4}));
  const Ints picked{0, 2, 0, 1}; // -1 is row 2, -3 is row 0
  for (std::size_t k = 0; k < 4; ++k)
    for (std::int64_t c = 0; c < 4; ++c)
      EXPECT_EQ(rows.data<float>()[k * 4 + static_cast<std::size_t>(c)], static_cast<float>(picked[k] * 4 + c));
  // Axis 1 of int64 data with int32 indices.
  const Tensor wide = int64s({2, 3}, {10, 11, 12, 20, 21, 22});
  const Tensor idx = Tensor::from(Shape{2}, DataType::Int32, std::vector<std::int32_t>{-1, 0});
  const Tensor cols = run_one("Gather", {input("data", wide), input("idx", idx)}, attrs({{"axis", std::int64_t{1}}}));
  EXPECT_EQ(cols.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<std::int64_t>(cols), (Ints{12, 10, 22, 20}));
}

TEST(CpuNative, GatherOutOfRangeIndexIsAnErrorNamingNodeAndIndex) {
  const Tensor data = iota({3, 2});
  try {
    run_one("Gather", {input("data", data), input("idx", int64s({0, 3}))});
    FAIL() << "index 3 of an axis of 3 was accepted";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find(node_name), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("3"), std::string::npos) << e.what();
  }
  // The kernel itself checks too (the scheduler's inference may not see the indices).
  (void)tern::backend("cpu");
  const tern::RegisteredKernel* gather = tern::find_kernel("cpu", "Gather", {DataType::Float32, DataType::Int64});
  ASSERT_NE(gather, nullptr);
  tern::Graph graph;
  graph.add_input("data", DataType::Float32, Shape{3, 2});
  graph.add_input("idx", DataType::Int64, Shape{2});
  const tern::Node& node = graph.add_node("Gather", {"data", "idx"}, {"y"}, {}, "gather_kernel");
  auto kernel = gather->def.make(node);
  std::vector<Tensor> in{data, int64s({1, -4})};
  std::vector<Tensor> out{Tensor(Shape{2, 2}, DataType::Float32)};
  try {
    kernel->run(in, out);
    FAIL() << "index -4 of an axis of 3 was accepted";
  } catch (const tern::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("position 1"), std::string::npos) << message;
    EXPECT_NE(message.find("-4"), std::string::npos) << message;
  }
}

TEST(CpuNative, SliceWalksNegativeSteps) {
  const Tensor x = iota({3, 4});
  // Rows 2, 1, 0 (end -10 clamps to "before 0"), columns 3 and 1.
  const Tensor y =
      run_one("Slice", {input("x", x), constant("starts", int64s({2, -1})), constant("ends", int64s({-10, 0})),
                        constant("axes", int64s({0, 1})), constant("steps", int64s({-1, -2}))});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{11, 9, 7, 5, 3, 1}));
}

TEST(CpuNative, SliceNegStepsOnnxExample) {
  // ONNX Slice example "slice_neg_steps": x[20:0:-1, 10:0:-3, 4:1:-2] of a [20, 10, 5] tensor.
  const Tensor x = tern::test::random_tensor({20, 10, 5}, 11);
  const Tensor y =
      run_one("Slice", {input("x", x), constant("starts", int64s({20, 10, 4})), constant("ends", int64s({0, 0, 1})),
                        constant("axes", int64s({0, 1, 2})), constant("steps", int64s({-1, -3, -2}))});
  ASSERT_EQ(y.shape(), (Shape{19, 3, 2}));
  std::vector<float> expected;
  for (std::int64_t i = 19; i > 0; --i)
    for (std::int64_t j = 9; j > 0; j -= 3)
      for (std::int64_t k = 4; k > 1; k -= 2) expected.push_back(x.data<float>()[(i * 10 + j) * 5 + k]);
  EXPECT_EQ(values<float>(y), expected);
}

TEST(CpuNative, SliceOfInt32DataWithInt32Indices) {
  const Tensor x = Tensor::from(Shape{5}, DataType::Int32, std::vector<std::int32_t>{0, 1, 2, 3, 4});
  const auto i32 = [](std::int32_t v) { return Tensor::from(Shape{1}, DataType::Int32, std::vector<std::int32_t>{v}); };
  const Tensor y = run_one("Slice", {input("x", x), constant("starts", i32(1)), constant("ends", i32(100))});
  EXPECT_EQ(values<std::int32_t>(y), (std::vector<std::int32_t>{1, 2, 3, 4}));
}

TEST(CpuNative, ReduceMeanOverAxes) {
  const Tensor x = tern::test::random_tensor({2, 3, 4}, 5);
  const Tensor kept = run_one("ReduceMean", {input("x", x)}, attrs({{"axes", Ints{0, 2}}}));
  ASSERT_EQ(kept.shape(), (Shape{1, 3, 1}));
  for (int j = 0; j < 3; ++j) {
    double sum = 0;
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < 4; ++k) sum += x.data<float>()[(i * 3 + j) * 4 + k];
    EXPECT_NEAR(kept.data<float>()[j], sum / 8.0, 1e-6);
  }
  const Tensor all = run_one("ReduceMean", {input("x", x)}, attrs({{"keepdims", std::int64_t{0}}}));
  ASSERT_EQ(all.shape(), Shape{});
  double total = 0;
  for (std::int64_t i = 0; i < 24; ++i) total += x.data<float>()[i];
  EXPECT_NEAR(all.data<float>()[0], total / 24.0, 1e-6);
}

// --- resize: the ONNX backend test examples -------------------------------------------

// roi (and scales, when sizes is given) are passed empty, as opset 11-12 exporters write
// "absent": the kernel must tell them from real values.
Feed empty(std::string name) { return constant(std::move(name), floats({0}, {})); }

Tensor resize(const Tensor& x, const std::vector<float>& scales, const Attributes& options) {
  const Tensor factors = floats({static_cast<std::int64_t>(scales.size())}, scales);
  return run_one("Resize", {input("x", x), empty("roi"), constant("scales", factors)}, options);
}

Tensor resize_to(const Tensor& x, const Ints& sizes, const Attributes& options) {
  return run_one("Resize", {input("x", x), empty("roi"), empty("scales"), constant("sizes", int64s(sizes))}, options);
}

TEST(CpuNative, ResizeUpsampleScalesLinear) {
  const Tensor x = floats({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor y = resize(x, {1, 1, 2, 2}, attrs({{"mode", std::string("linear")}}));
  expect_floats_near(
      y, {1, 1, 4, 4},
      {1.0f, 1.25f, 1.75f, 2.0f, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3.0f, 3.25f, 3.75f, 4.0f});
}

TEST(CpuNative, ResizeUpsampleScalesLinearAlignCorners) {
  const Tensor x = floats({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor y = resize(
      x, {1, 1, 2, 2},
      attrs({{"mode", std::string("linear")}, {"coordinate_transformation_mode", std::string("align_corners")}}));
  expect_floats_near(y, {1, 1, 4, 4},
                     {1.0f, 1.33333333f, 1.66666667f, 2.0f, 1.66666667f, 2.0f, 2.33333333f, 2.66666667f, 2.33333333f,
                      2.66666667f, 3.0f, 3.33333333f, 3.0f, 3.33333333f, 3.66666667f, 4.0f});
}

TEST(CpuNative, ResizeDownsampleScalesLinear) {
  const Tensor x = floats({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Attributes linear = attrs({{"mode", std::string("linear")}});
  expect_floats_near(resize(x, {1, 1, 0.6f, 0.6f}, linear), {1, 1, 1, 2}, {2.6666665f, 4.3333331f});
  const Attributes corners =
      attrs({{"mode", std::string("linear")}, {"coordinate_transformation_mode", std::string("align_corners")}});
  expect_floats_near(resize(x, {1, 1, 0.6f, 0.6f}, corners), {1, 1, 1, 2}, {1.0f, 3.142857f});
}

TEST(CpuNative, ResizeDownsampleSizesLinearPytorchHalfPixel) {
  const Tensor x = iota({1, 1, 4, 4});
  // ONNX's example uses 1..16; iota is 0..15, so every expected value is one less.
  const Tensor y = resize_to(
      x, {1, 1, 3, 1},
      attrs({{"mode", std::string("linear")}, {"coordinate_transformation_mode", std::string("pytorch_half_pixel")}}));
  expect_floats_near(y, {1, 1, 3, 1}, {1.6666666f - 1, 7.0f - 1, 12.333333f - 1});
}

TEST(CpuNative, ResizeUpsampleScalesNearest) {
  const Tensor x = floats({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor y = resize(x, {1, 1, 2, 3}, {});
  expect_floats_near(y, {1, 1, 4, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}, 0);
}

TEST(CpuNative, ResizeUpsampleSizesNearestModes) {
  std::vector<float> one_to_16(16);
  for (std::size_t i = 0; i < 16; ++i) one_to_16[i] = static_cast<float>(i + 1);
  const Tensor x = floats({1, 1, 4, 4}, one_to_16);
  // Expected 8x8 outputs as rows of input-row and input-column picks (ONNX backend tests
  // resize_upsample_sizes_nearest_ceil_half_pixel, _floor_align_corners,
  // _round_prefer_ceil_asymmetric).
  const auto expand = [](const Ints& rows, const Ints& cols) {
    std::vector<float> v;
    for (std::int64_t r : rows)
      for (std::int64_t c : cols) v.push_back(static_cast<float>(r * 4 + c + 1));
    return v;
  };
  const Ints ceil_picks{0, 1, 1, 2, 2, 3, 3, 3};
  expect_floats_near(resize_to(x, {1, 1, 8, 8},
                               attrs({{"nearest_mode", std::string("ceil")},
                                      {"coordinate_transformation_mode", std::string("half_pixel")}})),
                     {1, 1, 8, 8}, expand(ceil_picks, ceil_picks), 0);
  const Ints floor_picks{0, 0, 0, 1, 1, 2, 2, 3};
  expect_floats_near(resize_to(x, {1, 1, 8, 8},
                               attrs({{"nearest_mode", std::string("floor")},
                                      {"coordinate_transformation_mode", std::string("align_corners")}})),
                     {1, 1, 8, 8}, expand(floor_picks, floor_picks), 0);
  expect_floats_near(resize_to(x, {1, 1, 8, 8},
                               attrs({{"nearest_mode", std::string("round_prefer_ceil")},
                                      {"coordinate_transformation_mode", std::string("asymmetric")}})),
                     {1, 1, 8, 8}, expand(ceil_picks, ceil_picks), 0);
}

TEST(CpuNative, ResizeTfHalfPixelForNnDiffersFromHalfPixel) {
  const Tensor x = floats({1, 1, 1, 4}, {1, 2, 3, 4});
  // Output x reads input (x + 0.5) / 0.5 = 1, 3 ...
  expect_floats_near(
      resize_to(x, {1, 1, 1, 2}, attrs({{"coordinate_transformation_mode", std::string("tf_half_pixel_for_nn")}})),
      {1, 1, 1, 2}, {2, 4}, 0);
  // ... where half_pixel reads 0.5 and 2.5, which round_prefer_floor takes down.
  expect_floats_near(resize_to(x, {1, 1, 1, 2}, {}), {1, 1, 1, 2}, {1, 3}, 0);
}

TEST(CpuNative, ResizeOfEightBitIntegersRoundsTheFloatBlendHalfToEven) {
  // 2x bilinear (half_pixel) blends 0.25/0.75 of neighbours: along a row of 0, 2, 4, 7 the
  // float blends are 0, 0.5, 1.5, 2.5, 3.5, 4.75, 6.25, 7, whose halves go to even.
  const Tensor x = Tensor::from(Shape{1, 1, 1, 4}, DataType::Int8, std::vector<std::int8_t>{0, 2, 4, 7});
  const Attributes linear = attrs({{"mode", std::string("linear")}});
  const Tensor y = resize(x, {1, 1, 1, 2}, linear);
  ASSERT_EQ(y.dtype(), DataType::Int8);
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{0, 0, 2, 2, 4, 5, 6, 7}));
  // On any 8-bit data, linear and nearest: the float kernel's output, rounded.
  for (const auto& options : {linear, Attributes{}}) {
    for (const DataType type : {DataType::Int8, DataType::UInt8}) {
      std::vector<float> values(2 * 3 * 5 * 7);
      for (std::size_t i = 0; i < values.size(); ++i)
        values[i] = static_cast<float>((i * 37 + 11) % 255) - (type == DataType::Int8 ? 128.0f : 0.0f);
      const Tensor ints = floats({2, 3, 5, 7}, values).cast(type);
      const Tensor got = resize(ints, {1, 1, 1.6f, 2.2f}, options);
      const Tensor want = resize(ints.cast(DataType::Float32), {1, 1, 1.6f, 2.2f}, options);
      ASSERT_EQ(got.shape(), want.shape());
      ASSERT_EQ(got.dtype(), type);
      std::vector<double> rounded = want.to_doubles();
      for (double& v : rounded) v = std::nearbyint(v);
      EXPECT_EQ(got.to_doubles(), rounded);
    }
  }
}

// --- quantization ---------------------------------------------------------------------

TEST(CpuNative, QuantizeLinearPerAxis) {
  // ONNX QuantizeLinear example "axis".
  const Tensor x =
      floats({1, 3, 3, 2}, {-162, 10, -100, 232, -20, -50, -76, 0, 0, 252, 32, -44, 245, -485, -960, -270, -375, -470});
  const Tensor scale = floats({3}, {2, 4, 5});
  const Tensor zero = Tensor::from(Shape{3}, DataType::UInt8, std::vector<std::uint8_t>{84, 24, 196});
  const Tensor y = run_one("QuantizeLinear", {input("x", x), constant("scale", scale), constant("zero", zero)});
  ASSERT_EQ(y.dtype(), DataType::UInt8);
  EXPECT_EQ(values<std::uint8_t>(y),
            (std::vector<std::uint8_t>{3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99, 4, 142, 121, 102}));
}

TEST(CpuNative, QuantizeLinearRoundsHalfToEvenAndSaturates) {
  const Tensor x = floats({7}, {0.5f, 1.5f, 2.5f, -2.5f, 1000.f, -1000.f, 3.0f});
  const Tensor zero = Tensor::from(Shape{}, DataType::Int8, std::vector<std::int8_t>{0});
  const Tensor y =
      run_one("QuantizeLinear", {input("x", x), constant("scale", floats({}, {1.0f})), constant("zero", zero)});
  EXPECT_EQ(values<std::int8_t>(y), (std::vector<std::int8_t>{0, 2, 2, -2, 127, -128, 3}));
  // Without a zero point the output is uint8 with zero point 0.
  const Tensor u = run_one("QuantizeLinear", {input("x", x), constant("scale", floats({}, {2.0f}))});
  ASSERT_EQ(u.dtype(), DataType::UInt8);
  EXPECT_EQ(values<std::uint8_t>(u), (std::vector<std::uint8_t>{0, 1, 1, 0, 255, 0, 2}));
}

TEST(CpuNative, DequantizeLinear) {
  // ONNX DequantizeLinear example: (x - 128) * 2.
  const Tensor x = Tensor::from(Shape{4}, DataType::UInt8, std::vector<std::uint8_t>{0, 3, 128, 255});
  const Tensor zero = Tensor::from(Shape{}, DataType::UInt8, std::vector<std::uint8_t>{128});
  const Tensor y =
      run_one("DequantizeLinear", {input("x", x), constant("scale", floats({}, {2.0f})), constant("zero", zero)});
  EXPECT_EQ(values<float>(y), (std::vector<float>{-256, -250, 0, 254}));
  const Tensor bias = Tensor::from(Shape{2}, DataType::Int32, std::vector<std::int32_t>{-100000, 7});
  EXPECT_EQ(values<float>(run_one("DequantizeLinear", {input("x", bias), constant("scale", floats({}, {0.5f}))})),
            (std::vector<float>{-50000, 3.5f}));
}

TEST(CpuNative, DequantizeLinearPerAxis) {
  const std::vector<std::int8_t> q{-128, -1, 0, 1, 2, 3, 100, 127, -5, 5, 6, 7};
  const Tensor x = Tensor::from(Shape{2, 3, 2}, DataType::Int8, q);
  const std::vector<float> scales{0.5f, 2.0f, 0.25f};
  const std::vector<std::int8_t> zeros{0, -1, 3};
  const Tensor y = run_one("DequantizeLinear", {input("x", x), constant("scale", floats({3}, scales)),
                                                constant("zero", Tensor::from(Shape{3}, DataType::Int8, zeros))});
  for (std::size_t i = 0; i < q.size(); ++i) {
    const std::size_t channel = (i / 2) % 3; // axis 1 (the default) of [2, 3, 2]
    EXPECT_EQ(y.data<float>()[i], static_cast<float>(q[i] - zeros[channel]) * scales[channel]) << i;
  }
}

// --- plans ----------------------------------------------------------------------------

TEST(CpuNative, BatchSizeCanChangeBetweenForwards) {
  // x[N, 2, 3] -> Transpose[0, 2, 1] -> Pad edge (one column after) -> Slice (reversed
  // last axis) -> ReduceMean over axis 1 -> y[N, 3]: buffers are reused and regrown.
  tern::Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 2, 3});
  graph.add_constant("pads", int64s({0, 0, 0, 0, 0, 1}));
  graph.add_constant("starts", int64s({-1}));
  graph.add_constant("ends", int64s({std::numeric_limits<std::int64_t>::min()}));
  graph.add_constant("axes", int64s({2}));
  graph.add_constant("steps", int64s({-1}));
  graph.add_node("Transpose", {"x"}, {"t"}, attrs({{"perm", Ints{0, 2, 1}}}));
  graph.add_node("Pad", {"t", "pads"}, {"p"}, attrs({{"mode", std::string("edge")}}));
  graph.add_node("Slice", {"p", "starts", "ends", "axes", "steps"}, {"s"});
  graph.add_node("ReduceMean", {"s"}, {"y"}, attrs({{"axes", Ints{1}}, {"keepdims", std::int64_t{0}}}));
  graph.add_output("y");
  tern::SequentialScheduler scheduler(graph, {"cpu"});
  for (const std::int64_t batch : {2, 5, 1}) {
    const Tensor x = tern::test::random_tensor({batch, 2, 3}, static_cast<std::uint32_t>(batch));
    const Tensor y = scheduler.forward({x})[0];
    ASSERT_EQ(y.shape(), (Shape{batch, 3})) << "batch " << batch;
    // p[n][j][k] = x[n][min(k, 1)][j]; s reverses k in [0, 3); mean over j of s[n][j][k].
    for (std::int64_t n = 0; n < batch; ++n)
      for (std::int64_t k = 0; k < 3; ++k) {
        const std::int64_t source = std::min<std::int64_t>(2 - k, 1);
        float sum = 0;
        for (std::int64_t j = 0; j < 3; ++j) sum += x.data<float>()[(n * 2 + source) * 3 + j];
        EXPECT_NEAR(y.data<float>()[n * 3 + k], sum / 3.0f, 1e-6f) << "batch " << batch << ", n " << n << ", k " << k;
      }
  }
}

TEST(CpuNative, KernelsCheckTheirArguments) {
  (void)tern::backend("cpu");
  const tern::RegisteredKernel* transpose = tern::find_kernel("cpu", "Transpose", {DataType::Float32});
  ASSERT_NE(transpose, nullptr);
  tern::Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 3});
  const tern::Node& node = graph.add_node("Transpose", {"x"}, {"y"}, {}, "t");
  auto kernel = transpose->def.make(node);
  std::vector<Tensor> in{iota({2, 3})};
  std::vector<Tensor> wrong{Tensor(Shape{2, 3}, DataType::Float32)}; // should be [3, 2]
  EXPECT_THROW(kernel->run(in, wrong), tern::Error);
  // Rows exist for the index types the ONNX node tests use, and not for float indices.
  EXPECT_NE(tern::find_kernel("cpu", "Slice",
                              {DataType::Int32, DataType::Int32, DataType::Int32, DataType::Int32, DataType::Int32}),
            nullptr);
  EXPECT_NE(tern::find_kernel("cpu", "Reshape", {DataType::Bool, DataType::Int64}), nullptr);
  EXPECT_EQ(tern::find_kernel("cpu", "Gather", {DataType::Float32, DataType::Float32}), nullptr);
}

} // namespace
