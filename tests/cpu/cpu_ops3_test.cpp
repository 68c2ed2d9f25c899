// The third batch of native cpu kernels (reductions, ArgMax/ArgMin, float functions,
// LogSoftmax, Hardmax, comparisons, logic, Where, Mod, integer Add/Sub/Mul, Expand, Tile,
// ConstantOfShape, Size, Range, Pad's reflect past the axis), run through the SequentialScheduler on "cpu".
// Expected values are naive loops written here or worked out by hand from the ONNX spec.
#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include "graphs.hpp"
#include "op_testing.hpp"

#include <cmath>
#include <limits>

using namespace tern::test;

namespace {

using tern::Attributes;
using tern::DataType;
using tern::Shape;
using tern::Tensor;
template <class T> Tensor tensor(Shape shape, DataType type, const std::vector<T>& values) {
  return Tensor::from(std::move(shape), type, values);
}
Tensor bools(Shape shape, const std::vector<bool>& values) {
  Tensor result(std::move(shape), DataType::Bool);
  for (std::size_t i = 0; i < values.size(); ++i) result.data<bool>()[i] = values[i];
  return result;
}

void expect_bools(const Tensor& actual, const Shape& shape, const std::vector<bool>& expected) {
  ASSERT_EQ(actual.dtype(), DataType::Bool);
  ASSERT_EQ(actual.shape(), shape);
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(actual.data<bool>()[i], expected[i]) << "element " << i;
}

// --- reductions ----------------------------------------------------------------------

/// Naive reduction of x[2,3,4] over axis 1 (kept as 1): fold from `init`, then `finish`.
template <class Fold, class Finish>
std::vector<float> reduce_axis1(const Tensor& x, double init, Fold fold, Finish finish) {
  std::vector<float> out;
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 4; ++k) {
      double acc = init;
      for (int j = 0; j < 3; ++j) acc = fold(acc, static_cast<double>(x.data<float>()[(i * 3 + j) * 4 + k]));
      out.push_back(static_cast<float>(finish(acc)));
    }
  return out;
}

TEST(CpuOps3, EveryReductionMatchesANaiveLoop) {
  const Tensor x = tern::test::random_tensor({2, 3, 4}, 11, 0.5f, 2.0f);
  const auto same = [](double v) { return v; };
  const auto sum = [](double a, double v) { return a + v; };
  const auto squares = [](double a, double v) { return a + v * v; };
  struct Case {
    const char* op;
    std::vector<float> expected;
  };
  const std::vector<Case> cases = {
      {"ReduceMean", reduce_axis1(x, 0, sum, [](double s) { return s / 3; })},
      {"ReduceMax", reduce_axis1(
                        x, -1e30, [](double a, double v) { return std::max(a, v); }, same)},
      {"ReduceMin", reduce_axis1(
                        x, 1e30, [](double a, double v) { return std::min(a, v); }, same)},
      {"ReduceProd", reduce_axis1(
                         x, 1, [](double a, double v) { return a * v; }, same)},
      {"ReduceL1", reduce_axis1(
                       x, 0, [](double a, double v) { return a + std::abs(v); }, same)},
      {"ReduceL2", reduce_axis1(x, 0, squares, [](double s) { return std::sqrt(s); })},
      {"ReduceSumSquare", reduce_axis1(x, 0, squares, same)},
      {"ReduceLogSum", reduce_axis1(x, 0, sum, [](double s) { return std::log(s); })},
      {"ReduceLogSumExp",
       reduce_axis1(
           x, 0, [](double a, double v) { return a + std::exp(v); }, [](double s) { return std::log(s); })},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    expect_floats_near(run_one(c.op, {input("x", x)}, attrs({{"axes", Ints{1}}})), {2, 1, 4}, c.expected);
  }
  const Tensor summed =
      run_one("ReduceSum", {input("x", x), constant("axes", int64s({-2}))}, attrs({{"keepdims", std::int64_t{0}}}));
  expect_floats_near(summed, {2, 4}, reduce_axis1(x, 0, sum, same));
}

TEST(CpuOps3, ReduceSumAxesAsRuntimeDataAndEmptyAxes) {
  const Tensor x = floats({2, 2}, {1, 2, 3, 4});
  // Axes fed as a graph input: the scheduler infers the shape when running.
  expect_floats_near(run_one("ReduceSum", {input("x", x), input("axes", int64s({1}))}), {2, 1}, {3, 7});
  expect_floats_near(run_one("ReduceSum", {input("x", x), input("axes", int64s({}))}), {1, 1}, {10});
  expect_floats_near(run_one("ReduceSum", {input("x", x), input("axes", int64s({}))},
                             attrs({{"noop_with_empty_axes", std::int64_t{1}}})),
                     {2, 2}, {1, 2, 3, 4});
}

TEST(CpuOps3, LogSumExpDoesNotOverflowAndMaxKeepsNaN) {
  // exp(1000) overflows even double; the max shift keeps it finite: 1000 + log(2).
  const Tensor big = floats({2}, {1000, 1000});
  expect_floats_near(run_one("ReduceLogSumExp", {input("x", big)}), {1}, {1000.0f + std::log(2.0f)}, 1e-3f);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor with_nan = floats({3}, {1, nan, 2});
  EXPECT_TRUE(std::isnan(run_one("ReduceMax", {input("x", with_nan)}).data<float>()[0]));
}

TEST(CpuOps3, ReductionsOfFloat64) {
  const Tensor x = tensor(Shape{2, 2}, DataType::Float64, std::vector<double>{1, 2, 3, 4});
  const Tensor y = run_one("ReduceLogSumExp", {input("x", x)}, attrs({{"axes", Ints{0}}}));
  ASSERT_EQ(y.dtype(), DataType::Float64);
  EXPECT_NEAR(y.data<double>()[0], std::log(std::exp(1.0) + std::exp(3.0)), 1e-12);
  EXPECT_NEAR(y.data<double>()[1], std::log(std::exp(2.0) + std::exp(4.0)), 1e-12);
}

TEST(CpuOps3, ArgMaxArgMinWithTiesAndKeepdims) {
  const Tensor x = floats({2, 3}, {2, 7, 7, 5, 1, 5});
  const Tensor first = run_one("ArgMax", {input("x", x)}, attrs({{"axis", std::int64_t{1}}}));
  ASSERT_EQ(first.shape(), (Shape{2, 1}));
  EXPECT_EQ(values<std::int64_t>(first), (Ints{1, 0}));
  const Tensor last =
      run_one("ArgMax", {input("x", x)}, attrs({{"axis", std::int64_t{1}}, {"select_last_index", std::int64_t{1}}}));
  EXPECT_EQ(values<std::int64_t>(last), (Ints{2, 2}));
  const Tensor down = run_one("ArgMin", {input("x", x)}, attrs({{"keepdims", std::int64_t{0}}}));
  ASSERT_EQ(down.shape(), (Shape{3}));
  EXPECT_EQ(values<std::int64_t>(down), (Ints{0, 1, 1}));
}

// --- along an axis -------------------------------------------------------------------

TEST(CpuOps3, LogSoftmaxAndHardmaxAlongTheMiddleAxis) {
  const Tensor x = tern::test::random_tensor({2, 3, 2}, 3, -5.0f, 5.0f);
  const Tensor log_softmax = run_one("LogSoftmax", {input("x", x)}, attrs({{"axis", std::int64_t{1}}}));
  const Tensor hardmax = run_one("Hardmax", {input("x", x)}, attrs({{"axis", std::int64_t{1}}}));
  std::vector<float> expected_log(12), expected_hard(12, 0.0f);
  const float* v = x.data<float>();
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 2; ++k) {
      double sum = 0;
      int best = 0;
      for (int j = 0; j < 3; ++j) {
        sum += std::exp(static_cast<double>(v[(i * 3 + j) * 2 + k]));
        if (v[(i * 3 + j) * 2 + k] > v[(i * 3 + best) * 2 + k]) best = j;
      }
      for (int j = 0; j < 3; ++j)
        expected_log[static_cast<std::size_t>((i * 3 + j) * 2 + k)] =
            static_cast<float>(v[(i * 3 + j) * 2 + k] - std::log(sum));
      expected_hard[static_cast<std::size_t>((i * 3 + best) * 2 + k)] = 1.0f;
    }
  expect_floats_near(log_softmax, {2, 3, 2}, expected_log);
  expect_floats_near(hardmax, {2, 3, 2}, expected_hard, 0);
  // Ties: only the first maximum is 1.
  expect_floats_near(run_one("Hardmax", {input("x", floats({1, 3}, {4, 4, 1}))}), {1, 3}, {1, 0, 0}, 0);
}

// --- unary functions -----------------------------------------------------------------

TEST(CpuOps3, FloatFunctionsMatchTheStandardLibrary) {
  const std::vector<float> xs = {-0.9f, -0.3f, 0.0f, 0.4f, 0.8f};
  struct Case {
    const char* op;
    double (*reference)(double);
  };
  const Case cases[] = {
      {"Sin", [](double v) { return std::sin(v); }},
      {"Cos", [](double v) { return std::cos(v); }},
      {"Tan", [](double v) { return std::tan(v); }},
      {"Asin", [](double v) { return std::asin(v); }},
      {"Acos", [](double v) { return std::acos(v); }},
      {"Atan", [](double v) { return std::atan(v); }},
      {"Sinh", [](double v) { return std::sinh(v); }},
      {"Cosh", [](double v) { return std::cosh(v); }},
      {"Asinh", [](double v) { return std::asinh(v); }},
      {"Atanh", [](double v) { return std::atanh(v); }},
      {"Erf", [](double v) { return std::erf(v); }},
      {"Floor", [](double v) { return std::floor(v); }},
      {"Ceil", [](double v) { return std::ceil(v); }},
      {"Softplus", [](double v) { return std::log(1 + std::exp(v)); }},
      {"Softsign", [](double v) { return v / (1 + std::abs(v)); }},
      {"Sign", [](double v) { return v > 0   ? 1.0
                                     : v < 0 ? -1.0
                                             : 0.0; }},
      {"Elu", [](double v) { return v < 0 ? std::exp(v) - 1 : v; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    std::vector<float> expected;
    for (const float v : xs) expected.push_back(static_cast<float>(c.reference(v)));
    expect_floats_near(run_one(c.op, {input("x", floats({5}, xs))}), {5}, expected);
  }
  const Tensor positive = floats({3}, {0.5f, 2.0f, 4.0f});
  expect_floats_near(run_one("Log", {input("x", positive)}), {3}, {std::log(0.5f), std::log(2.0f), std::log(4.0f)});
  expect_floats_near(run_one("Reciprocal", {input("x", positive)}), {3}, {2.0f, 0.5f, 0.25f});
  expect_floats_near(run_one("Acosh", {input("x", floats({2}, {1.0f, 2.0f}))}), {2}, {0.0f, std::acosh(2.0f)});
}

TEST(CpuOps3, FunctionAttributes) {
  const Tensor x = floats({4}, {-1.0f, 0.5f, 1.0f, 2.0f});
  // Selu's defaults: gamma * (x < 0 ? alpha * (exp(x) - 1) : x).
  const double alpha = 1.67326319217681884765625, gamma = 1.05070102214813232421875;
  expect_floats_near(run_one("Selu", {input("x", x)}), {4},
                     {static_cast<float>(gamma * alpha * (std::exp(-1.0) - 1)), static_cast<float>(gamma * 0.5),
                      static_cast<float>(gamma), static_cast<float>(gamma * 2)});
  expect_floats_near(run_one("Elu", {input("x", x)}, attrs({{"alpha", 2.0}})), {4},
                     {static_cast<float>(2 * (std::exp(-1.0) - 1)), 0.5f, 1.0f, 2.0f});
  // ThresholdedRelu keeps x > alpha only (1.0 is not above the default alpha 1).
  expect_floats_near(run_one("ThresholdedRelu", {input("x", x)}), {4}, {0, 0, 0, 2});
  expect_floats_near(run_one("ThresholdedRelu", {input("x", x)}, attrs({{"alpha", 0.25}})), {4}, {0, 0.5f, 1, 2});
}

TEST(CpuOps3, IsNaNAndIsInf) {
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor x = floats({4}, {-inf, std::numeric_limits<float>::quiet_NaN(), 1.0f, inf});
  expect_bools(run_one("IsNaN", {input("x", x)}), {4}, {false, true, false, false});
  expect_bools(run_one("IsInf", {input("x", x)}), {4}, {true, false, false, true});
  expect_bools(run_one("IsInf", {input("x", x)}, attrs({{"detect_positive", std::int64_t{0}}})), {4},
               {true, false, false, false});
  expect_bools(run_one("IsInf", {input("x", x)}, attrs({{"detect_negative", std::int64_t{0}}})), {4},
               {false, false, false, true});
}

// --- comparisons, logic, Where ---------------------------------------------------------

TEST(CpuOps3, ComparisonsBroadcast) {
  const Tensor a = floats({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = floats({3}, {2, 2, 5});
  expect_bools(run_one("Greater", {input("a", a), input("b", b)}), {2, 3}, {false, false, false, true, true, true});
  expect_bools(run_one("Less", {input("a", a), input("b", b)}), {2, 3}, {true, false, true, false, false, false});
  expect_bools(run_one("Equal", {input("a", a), input("b", b)}), {2, 3}, {false, true, false, false, false, false});
  expect_bools(run_one("GreaterOrEqual", {input("a", a), input("b", b)}), {2, 3},
               {false, true, false, true, true, true});
  expect_bools(run_one("LessOrEqual", {input("a", a), input("b", b)}), {2, 3}, {true, true, true, false, false, false});
  const Tensor i = tensor(Shape{3}, DataType::Int64, Ints{1, -5, 9});
  const Tensor j = tensor(Shape{1}, DataType::Int64, Ints{1});
  expect_bools(run_one("Equal", {input("i", i), input("j", j)}), {3}, {true, false, false});
  const Tensor k = tensor(Shape{3}, DataType::Int32, std::vector<std::int32_t>{1, -5, 9});
  const Tensor l = tensor(Shape{3}, DataType::Int32, std::vector<std::int32_t>{0, 0, 9});
  expect_bools(run_one("Greater", {input("k", k), input("l", l)}), {3}, {true, false, false});
}

TEST(CpuOps3, LogicOnBool) {
  const Tensor a = bools({2, 2}, {false, false, true, true});
  const Tensor b = bools({2}, {false, true});
  expect_bools(run_one("And", {input("a", a), input("b", b)}), {2, 2}, {false, false, false, true});
  expect_bools(run_one("Or", {input("a", a), input("b", b)}), {2, 2}, {false, true, true, true});
  expect_bools(run_one("Xor", {input("a", a), input("b", b)}), {2, 2}, {false, true, true, false});
  expect_bools(run_one("Not", {input("a", a)}), {2, 2}, {true, true, false, false});
}

TEST(CpuOps3, WhereBroadcastsAndKeepsAnyDtype) {
  const Tensor c = bools({2, 1}, {true, false});
  const Tensor x = tensor(Shape{2, 2}, DataType::Int64, Ints{1, 2, 3, 4});
  const Tensor y = tensor(Shape{2}, DataType::Int64, Ints{-1, -2});
  const Tensor out = run_one("Where", {input("c", c), input("x", x), input("y", y)});
  ASSERT_EQ(out.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<std::int64_t>(out), (Ints{1, 2, -1, -2}));
  const Tensor f = run_one("Where", {input("c", bools({3}, {false, true, false})), input("x", floats({3}, {1, 2, 3})),
                                     input("y", floats({1}, {9}))});
  expect_floats_near(f, {3}, {9, 2, 9}, 0);
}

TEST(CpuOps3, ModFollowsTheDivisorOrTheDividend) {
  // The ONNX examples: mixed signs, Python's % (divisor's sign) and C's fmod.
  const Tensor a = tensor(Shape{6}, DataType::Int32, std::vector<std::int32_t>{-4, 7, 5, 4, -7, 8});
  const Tensor b = tensor(Shape{6}, DataType::Int32, std::vector<std::int32_t>{2, -3, 8, -2, 3, 5});
  const Tensor python = run_one("Mod", {input("a", a), input("b", b)});
  EXPECT_EQ(values<std::int32_t>(python), (std::vector<std::int32_t>{0, -2, 5, 0, 2, 3}));
  const Tensor c_style = run_one("Mod", {input("a", a), input("b", b)}, attrs({{"fmod", std::int64_t{1}}}));
  EXPECT_EQ(values<std::int32_t>(c_style), (std::vector<std::int32_t>{0, 1, 5, 0, -1, 3}));
  const Tensor fa = floats({4}, {-4.3f, 7.2f, 5.0f, -7.6f});
  const Tensor fb = floats({4}, {2.1f, -3.4f, 8.0f, 3.3f});
  expect_floats_near(run_one("Mod", {input("a", fa), input("b", fb)}, attrs({{"fmod", std::int64_t{1}}})), {4},
                     {std::fmod(-4.3f, 2.1f), std::fmod(7.2f, -3.4f), 5.0f, std::fmod(-7.6f, 3.3f)});
  // A zero integer divisor gives 0 (numpy) rather than undefined behaviour.
  const Tensor zero = tensor(Shape{1}, DataType::Int64, Ints{0});
  const Tensor seven = tensor(Shape{1}, DataType::Int64, Ints{7});
  EXPECT_EQ(values<std::int64_t>(run_one("Mod", {input("a", seven), input("b", zero)})), Ints{0});
}

/// ONNX Runtime's result of `op` on int32 a and b: the exact value, in int64, wrapped
/// modulo 2^32 into int32's range.
std::int32_t wrapped_int32(const std::string& op, std::int32_t a, std::int32_t b) {
  const std::int64_t x = a, y = b;
  const std::int64_t exact = op == "Add" ? x + y : op == "Sub" ? x - y : x * y;
  const std::int64_t modulus = std::int64_t{1} << 32;
  const std::int64_t low = ((exact % modulus) + modulus) % modulus; // in [0, 2^32)
  return static_cast<std::int32_t>(low >= modulus / 2 ? low - modulus : low);
}

TEST(CpuOps3, IntegerAddSubMulBroadcastAndWrapAround) {
  // Full-range int32 values (a fixed linear congruential sequence), so that most sums and
  // products overflow; b [3, 1] broadcasts against a [2, 3, 4].
  std::uint32_t state = 12345;
  const auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return static_cast<std::int32_t>(state);
  };
  std::vector<std::int32_t> a(24), b(3);
  for (std::int32_t& v : a) v = next();
  for (std::int32_t& v : b) v = next();
  for (const std::string op : {"Add", "Sub", "Mul"}) {
    const Tensor y = run_one(op, {input("a", tensor(Shape{2, 3, 4}, DataType::Int32, a)),
                                  input("b", tensor(Shape{3, 1}, DataType::Int32, b))});
    ASSERT_EQ(y.dtype(), DataType::Int32);
    ASSERT_EQ(y.shape(), (Shape{2, 3, 4}));
    for (std::size_t n = 0; n < 2; ++n)
      for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t w = 0; w < 4; ++w) {
          const std::size_t i = (n * 3 + c) * 4 + w;
          EXPECT_EQ(y.data<std::int32_t>()[i], wrapped_int32(op, a[i], b[c])) << op << " element " << i;
        }
  }
  const Tensor top = tensor(Shape{2}, DataType::Int32, std::vector<std::int32_t>{2147483647, -2147483647 - 1});
  const Tensor one = tensor(Shape{}, DataType::Int32, std::vector<std::int32_t>{1});
  EXPECT_EQ(values<std::int32_t>(run_one("Add", {input("a", top), input("b", one)})),
            (std::vector<std::int32_t>{-2147483647 - 1, -2147483647}));
  EXPECT_EQ(values<std::int32_t>(run_one("Sub", {input("a", top), input("b", one)})),
            (std::vector<std::int32_t>{2147483646, 2147483647}));
  // int64: [1] against [2, 3], and a product past int64's range.
  const Tensor three = tensor(Shape{1}, DataType::Int64, Ints{3});
  const Tensor row =
      tensor(Shape{2, 3}, DataType::Int64, Ints{1, 2, 3, -4, 5, std::numeric_limits<std::int64_t>::max()});
  EXPECT_EQ(values<std::int64_t>(run_one("Sub", {input("a", three), input("b", row)})),
            (Ints{2, 1, 0, 7, -2, std::numeric_limits<std::int64_t>::min() + 4}));
  EXPECT_EQ(values<std::int64_t>(run_one("Mul", {input("a", three), input("b", row)})),
            (Ints{3, 6, 9, -12, 15, std::numeric_limits<std::int64_t>::max() - 2}));
}

// --- Expand, Tile, ConstantOfShape, Size, Range ---------------------------------------

TEST(CpuOps3, ExpandBroadcastsToTheShape) {
  const Tensor x = floats({3, 1}, {1, 2, 3});
  const Tensor y = run_one("Expand", {input("x", x), constant("shape", int64s({2, 1, 2}))});
  expect_floats_near(y, {2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}, 0);
  // Shape data fed at run time, and a smaller shape than the input's (kept by broadcasting).
  const Tensor same = run_one("Expand", {input("x", x), input("shape", int64s({1}))});
  expect_floats_near(same, {3, 1}, {1, 2, 3}, 0);
}

TEST(CpuOps3, TileRepeatsEveryAxis) {
  const Tensor x = tensor(Shape{2, 2}, DataType::Int64, Ints{1, 2, 3, 4});
  const Tensor y = run_one("Tile", {input("x", x), constant("repeats", int64s({2, 3}))});
  ASSERT_EQ(y.shape(), (Shape{4, 6}));
  Ints expected;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 6; ++c) expected.push_back(x.data<std::int64_t>()[(r % 2) * 2 + c % 2]);
  EXPECT_EQ(values<std::int64_t>(y), expected);
}

TEST(CpuOps3, ConstantOfShapeSizeAndRange) {
  const Tensor zeros = run_one("ConstantOfShape", {input("s", int64s({2, 3}))});
  expect_floats_near(zeros, {2, 3}, std::vector<float>(6, 0.0f), 0);
  const Tensor sevens = run_one("ConstantOfShape", {input("s", int64s({3}))},
                                attrs({{"value", tensor(Shape{1}, DataType::Int32, std::vector<std::int32_t>{7})}}));
  ASSERT_EQ(sevens.dtype(), DataType::Int32);
  EXPECT_EQ(values<std::int32_t>(sevens), (std::vector<std::int32_t>{7, 7, 7}));
  const Tensor none = run_one("ConstantOfShape", {input("s", int64s({0}))});
  EXPECT_EQ(none.shape(), (Shape{0}));

  const Tensor size = run_one("Size", {input("x", floats({2, 5}, std::vector<float>(10, 1.0f)))});
  ASSERT_EQ(size.shape(), Shape{});
  EXPECT_EQ(size.data<std::int64_t>()[0], 10);

  const auto scalar32 = [](std::int32_t v) { return tensor(Shape{}, DataType::Int32, std::vector<std::int32_t>{v}); };
  const Tensor down =
      run_one("Range", {input("start", scalar32(10)), input("limit", scalar32(4)), input("delta", scalar32(-3))});
  EXPECT_EQ(values<std::int32_t>(down), (std::vector<std::int32_t>{10, 7}));
  const auto scalar = [](float v) { return tensor(Shape{}, DataType::Float32, std::vector<float>{v}); };
  expect_floats_near(
      run_one("Range", {input("start", scalar(1)), input("limit", scalar(5)), input("delta", scalar(1.5f))}), {3},
      {1, 2.5f, 4});
}

TEST(CpuOps3, PadReflectsPastTheAxisLikeOnnxsExample) {
  // ONNX's Pad reflect example: pads [0, 2, 0, 0] on [3, 2].
  const Tensor x = floats({3, 2}, {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f});
  const Tensor y = run_one("Pad", {input("x", x), constant("pads", int64s({0, 2, 0, 0}))},
                           attrs({{"mode", std::string("reflect")}}));
  expect_floats_near(y, {3, 4}, {1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f}, 0);
}

TEST(CpuOps3, KernelErrorsNameTheNode) {
  // A run-time repeats input with the wrong count reaches the kernel only when running.
  try {
    run_one("Tile", {input("x", floats({2, 2}, {1, 2, 3, 4})), input("repeats", int64s({2}))});
    ADD_FAILURE() << "expected tern::Error";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find(node_name), std::string::npos) << e.what();
  }
}

} // namespace
