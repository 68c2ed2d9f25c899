// Requantize on "cpu" against its definition written out in integer_reference.hpp: ties
// at .5 go to even, saturation at lo/hi, per-tensor and per-channel scales, every input
// dtype (float32, int32, int8, uint8) and every output dtype. RequantizeAdd against the
// same definition applied three times, as the four nodes it replaces compute.
#include "integer_reference.hpp"
#include "op_testing.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace {

using tern::Attributes;
using tern::DataType;
using tern::Shape;
using tern::Tensor;
using tern::test::Values;

Attributes requantize_attrs(std::vector<double> scale, std::int64_t lo, std::int64_t hi, const char* to,
                            std::int64_t axis = 1) {
  return tern::test::attrs(
      {{"scale", std::move(scale)}, {"lo", lo}, {"hi", hi}, {"to", std::string(to)}, {"axis", axis}});
}

Values run_requantize(const Tensor& x, const Attributes& a, DataType expected_type) {
  const Tensor y = tern::test::run_one("Requantize", {tern::test::input("x", x)}, a);
  EXPECT_EQ(y.dtype(), expected_type);
  EXPECT_EQ(y.shape(), x.shape());
  return y.to_int64s();
}

TEST(IntegerRequantize, TiesRoundHalfToEven) {
  // x * 0.5 lands on every .5 from -3.5 to 3.5: half to even gives -4 -2 -2 -0 0 2 2 4.
  const Values x{-7, -5, -3, -1, 1, 3, 5, 7};
  const Values expected{-4, -2, -2, 0, 0, 2, 2, 4};
  EXPECT_EQ(run_requantize(tern::test::typed(Shape{8}, DataType::Int32, x), requantize_attrs({0.5}, -128, 127, "int8"),
                           DataType::Int8),
            expected);
  // Float input: 2.5 * 1 and -0.5 * 1 are ties as well.
  const Tensor f = Tensor::from_floats(Shape{4}, {2.5f, -0.5f, 3.5f, -2.5f});
  EXPECT_EQ(run_requantize(f, requantize_attrs({1.0}, -128, 127, "int8"), DataType::Int8), (Values{2, 0, 4, -2}));
}

TEST(IntegerRequantize, SaturatesAtLoAndHi) {
  const Values x{-100000, -300, -1, 0, 1, 300, 100000};
  const Tensor t = tern::test::typed(Shape{7}, DataType::Int32, x);
  EXPECT_EQ(run_requantize(t, requantize_attrs({1.0}, -128, 127, "int8"), DataType::Int8),
            (Values{-128, -128, -1, 0, 1, 127, 127}));
  EXPECT_EQ(run_requantize(t, requantize_attrs({1.0}, 0, 255, "uint8"), DataType::UInt8),
            (Values{0, 0, 0, 0, 1, 255, 255}));
  // A narrower [lo, hi] (a fused Relu6-like range) clamps inside the type's range.
  EXPECT_EQ(run_requantize(t, requantize_attrs({0.01}, 0, 6, "uint8"), DataType::UInt8), (Values{0, 0, 0, 0, 0, 3, 6}));
  EXPECT_EQ(run_requantize(t, requantize_attrs({2.0}, -1000000, 1000000, "int32"), DataType::Int32),
            (Values{-200000, -600, -2, 0, 2, 600, 200000}));
}

// Float inputs far outside the range, infinities and NaN: saturated (NaN to lo), as ONNX's
// Clip of a rounded NaN is not defined and Tern's integer graph must stay deterministic.
TEST(IntegerRequantize, HugeInfiniteAndNanFloatsSaturate) {
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor f = Tensor::from_floats(Shape{6}, {1e30f, -1e30f, inf, -inf, std::nanf(""), 5e6f});
  EXPECT_EQ(run_requantize(f, requantize_attrs({1.0}, -128, 127, "int8"), DataType::Int8),
            (Values{127, -128, 127, -128, -128, 127}));
  EXPECT_EQ(run_requantize(f, requantize_attrs({1.0}, 0, 255, "uint8"), DataType::UInt8),
            (Values{255, 0, 255, 0, 0, 255}));
}

TEST(IntegerRequantize, PerChannelAlongAxis) {
  // [2, 3, 2, 2] int32 accumulations, one scale per channel of axis 1, and along axis -1.
  const Shape shape{2, 3, 2, 2};
  const Values x = tern::test::random_values(shape.numel(), -40000, 40000, 7);
  const std::vector<float> scales{0.001f, 0.0037f, 0.0125f};
  const Values expected = tern::test::requantize(x, scales, 3, 4, -128, 127);
  EXPECT_EQ(run_requantize(tern::test::typed(shape, DataType::Int32, x),
                           requantize_attrs({0.001, 0.0037, 0.0125}, -128, 127, "int8"), DataType::Int8),
            expected);
  const Shape last{4, 3};
  const Values y = tern::test::random_values(last.numel(), -40000, 40000, 8);
  EXPECT_EQ(run_requantize(tern::test::typed(last, DataType::Int32, y),
                           requantize_attrs({0.001, 0.0037, 0.0125}, 0, 255, "uint8", -1), DataType::UInt8),
            tern::test::requantize(y, scales, 3, 1, 0, 255));
}

TEST(IntegerRequantize, EveryInputDtype) {
  const Shape shape{3, 5, 7};
  for (const DataType in : {DataType::Float32, DataType::Int32, DataType::Int8, DataType::UInt8}) {
    const Values x = in == DataType::UInt8  ? tern::test::random_values(shape.numel(), 0, 255, 3)
                     : in == DataType::Int8 ? tern::test::random_values(shape.numel(), -128, 127, 3)
                                            : tern::test::random_values(shape.numel(), -5000, 5000, 3);
    const Tensor t = tern::test::typed(shape, in, x);
    for (const char* to : {"int8", "uint8"}) {
      const bool signed_out = std::string(to) == "int8";
      const std::int64_t lo = signed_out ? -128 : 0, hi = signed_out ? 127 : 255;
      const Values got =
          run_requantize(t, requantize_attrs({0.37}, lo, hi, to), signed_out ? DataType::Int8 : DataType::UInt8);
      EXPECT_EQ(got, tern::test::requantize(x, {0.37f}, 1, 1, lo, hi)) << name(in) << " -> " << to;
    }
  }
}

// 8-bit inputs to int32 outputs (the terms of an integer residual Add), large enough for the
// kernel's per-channel lookup tables, per tensor and per channel, with scales whose products
// need more than 24 bits: every element as the definition says.
TEST(IntegerRequantize, EightBitInputsToInt32AtScale) {
  const Shape shape{2, 3, 24, 24};
  const std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();
  for (const DataType in : {DataType::Int8, DataType::UInt8}) {
    const Values x = in == DataType::Int8 ? tern::test::random_values(shape.numel(), -128, 127, 11)
                                          : tern::test::random_values(shape.numel(), 0, 255, 11);
    const Tensor t = tern::test::typed(shape, in, x);
    EXPECT_EQ(run_requantize(t, requantize_attrs({12345.678}, -int32_max, int32_max, "int32"), DataType::Int32),
              tern::test::requantize(x, {12345.678f}, 1, 1, -int32_max, int32_max))
        << name(in);
    const std::vector<float> scales{0.5f, 3.75f, 1048576.3f};
    EXPECT_EQ(
        run_requantize(t, requantize_attrs({0.5, 3.75, 1048576.3}, -1000000, 100000000, "int32"), DataType::Int32),
        tern::test::requantize(x, scales, 3, 24 * 24, -1000000, 100000000))
        << name(in);
  }
}

TEST(IntegerRequantize, ProductIsOneFloat32Multiplication) {
  // Values above 2^24 become float32 first (rounding), then one float32 product: the same
  // bits as the float graph Mul -> Round -> Clip. 16777217 rounds to 16777216 as float32.
  const Values x{16777217, 33554431, -16777219, 123456789};
  const Tensor t = tern::test::typed(Shape{4}, DataType::Int32, x);
  EXPECT_EQ(run_requantize(t, requantize_attrs({1.0 / 3.0}, -2147483648LL, 2147483647LL, "int32"), DataType::Int32),
            tern::test::requantize(x, {static_cast<float>(1.0 / 3.0)}, 1, 1, -2147483648LL, 2147483647LL));
}

// The integer residual Add in one node: each 8-bit operand to an int32 term (its scale,
// clamped to int32), the exact sum, requantized. Scales like the PTQ's (terms near 2^29, so
// float32(sum) rounds), ties (0.5 and 1.5 on odd values), operands of either sign type,
// per tensor and per channel (channels first, and last as channels_last_ops writes
// it), both output types with a narrower [lo, hi].
TEST(IntegerRequantize, RequantizeAddIsTheFourNodesItReplaces) {
  const std::int64_t channels = 3, int32_max = std::numeric_limits<std::int32_t>::max();
  struct Layout {
    Shape shape;
    std::int64_t axis, inner;
  };
  // The last is large enough for the threads to share the rows, and per tensor for the
  // kernel to cut the whole tensor into chunks, the last partial.
  const std::vector<Layout> layouts{{Shape{2, 3, 5, 7}, 1, 35},
                                    {Shape{2, 5, 7, 3}, 3, 1},
                                    {Shape{2, 5, 7, 3}, -1, 1},
                                    {Shape{2, 3, 100, 190}, 1, 19000}};
  struct Case {
    std::vector<double> a_scale, b_scale, scale;
    std::int64_t lo, hi;
    const char* to;
  };
  const std::vector<Case> cases{
      {{1048576.37}, {2097152.11}, {1.0 / 8388608.0}, -128, 127, "int8"},
      {{0.5}, {1.5}, {0.25}, 0, 255, "uint8"},
      {{1048576.37, 3.0, 0.5}, {2097152.11}, {1.0 / 8388608.0, 0.75, 0.5}, 0, 6, "uint8"},
      {{12.5}, {0.3, 1.5, 700001.9}, {0.01}, -127, 127, "int8"},
  };
  for (const auto& [shape, axis, inner] : layouts)
    for (const DataType a_type : {DataType::Int8, DataType::UInt8})
      for (const DataType b_type : {DataType::Int8, DataType::UInt8})
        for (const Case& c : cases) {
          const Values a = tern::test::random_x(shape.numel(), a_type, 21);
          const Values b = tern::test::random_x(shape.numel(), b_type, 22);
          const auto floats = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
          const Values ta = tern::test::requantize(a, floats(c.a_scale), channels, inner, -int32_max - 1, int32_max);
          const Values tb = tern::test::requantize(b, floats(c.b_scale), channels, inner, -int32_max - 1, int32_max);
          Values sum(ta.size());
          for (std::size_t i = 0; i < sum.size(); ++i) sum[i] = ta[i] + tb[i];
          const Values expected = tern::test::requantize(sum, floats(c.scale), channels, inner, c.lo, c.hi);
          const Attributes attrs = tern::test::attrs({{"a_scale", c.a_scale},
                                                      {"b_scale", c.b_scale},
                                                      {"scale", c.scale},
                                                      {"lo", c.lo},
                                                      {"hi", c.hi},
                                                      {"to", std::string(c.to)},
                                                      {"axis", axis}});
          const Tensor y = tern::test::run_one("RequantizeAdd",
                                               {tern::test::input("a", tern::test::typed(shape, a_type, a)),
                                                tern::test::input("b", tern::test::typed(shape, b_type, b))},
                                               attrs);
          EXPECT_EQ(y.dtype(), std::string(c.to) == "int8" ? DataType::Int8 : DataType::UInt8);
          EXPECT_EQ(y.to_int64s(), expected)
              << name(a_type) << " + " << name(b_type) << ", a_scale " << c.a_scale[0] << ", axis " << axis;
        }
}

} // namespace

namespace {

// Scales that fit no channel count of the tensor a run brings (the axis dynamic when the
// graph was checked): refused before the kernel runs, one line naming the node, the
// attribute and the counts.
TEST(IntegerRequantize, ScalesThatFitNoChannelCountAreRefused) {
  const Shape dynamic{2, tern::Shape::dynamic, 4};
  const auto run = [&](const std::string& op, const Attributes& attrs, std::size_t inputs) {
    tern::Graph graph;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < inputs; ++i) {
      names.push_back("x" + std::to_string(i));
      graph.add_input(names.back(), DataType::Int8, dynamic);
    }
    graph.add_node(op, names, {"y"}, attrs);
    graph.add_output("y");
    tern::SequentialScheduler scheduler(graph, {"cpu"});
    const Tensor x = tern::test::typed(Shape{2, 2, 4}, DataType::Int8, tern::test::random_x(16, DataType::Int8, 3));
    try {
      scheduler.forward(std::vector<Tensor>(inputs, x));
      ADD_FAILURE() << op << " ran";
    } catch (const tern::Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("node '" + op + "_0' (" + op + ")"), std::string::npos) << message;
      EXPECT_NE(message.find("has 3 values; expected 1 or 2"), std::string::npos) << message;
    }
  };
  run("Requantize", requantize_attrs({0.5, 0.25, 2.0}, -128, 127, "int8"), 1);
  run("RequantizeAdd",
      tern::test::attrs({{"a_scale", std::vector<double>{0.5}},
                         {"b_scale", std::vector<double>{0.5, 0.25, 2.0}},
                         {"scale", std::vector<double>{1.0}},
                         {"lo", std::int64_t{-128}},
                         {"hi", std::int64_t{127}},
                         {"to", std::string("int8")},
                         {"axis", std::int64_t{1}}}),
      2);
}

} // namespace
