// The int64 shape arithmetic exporters write for a dynamic batch (PyTorch's Shape -> Gather
// -> Div/Mul -> Concat -> Reshape chains, e.g. shufflenet's channel shuffle), run on "cpu":
// integer Div and Concat of the dtypes oneDNN lacks. Expected values are naive loops written
// here or worked out by hand from the ONNX spec.
#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include "graphs.hpp"
#include "op_testing.hpp"

#include <algorithm>
#include <limits>

using namespace tern::test;

namespace {

using tern::DataType;
using tern::Shape;
using tern::Tensor;

TEST(CpuShapeArithmetic, IntegerDivTruncatesTowardZeroAndBroadcasts) {
  // a [2, 3] by b [3]: every sign combination; C++'s / on the exact values is ONNX's
  // truncation (numpy's quotient cast back to the integer type).
  const Ints a{7, -7, 7, -8, 9, 0}, b{2, 2, -2};
  const Tensor y = run_one("Div", {input("a", int64s({2, 3}, a)), input("b", int64s(b))});
  ASSERT_EQ(y.dtype(), DataType::Int64);
  ASSERT_EQ(y.shape(), (Shape{2, 3}));
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(y.data<std::int64_t>()[i], a[i] / b[i % 3]) << "element " << i;
  EXPECT_EQ(values<std::int64_t>(y), (Ints{3, -3, -3, -4, 4, 0}));

  const auto int32s = [](const std::vector<std::int32_t>& v) {
    return Tensor::from(Shape{static_cast<std::int64_t>(v.size())}, DataType::Int32, v);
  };
  EXPECT_EQ(values<std::int32_t>(run_one("Div", {input("a", int32s({116, -116})), input("b", int32s({2, 3}))})),
            (std::vector<std::int32_t>{58, -38}));
}

TEST(CpuShapeArithmetic, IntegerDivByZeroOrMinusOneOfTheMinimumDoesNotTrap) {
  // Undefined in C++ (x86 raises SIGFPE): a zero divisor gives 0, minimum / -1 wraps.
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  const Tensor y = run_one("Div", {input("a", int64s({5, min, min})), input("b", int64s({0, -1, 1}))});
  EXPECT_EQ(values<std::int64_t>(y), (Ints{0, min, min}));
}

TEST(CpuShapeArithmetic, Int64ConcatOfShapeVectors) {
  // The exporters' [batch, groups, channels / groups, h, w] built from five 1-element pieces.
  const Tensor y = run_one("Concat",
                           {input("n", int64s({2})), input("g", int64s({2})), input("c", int64s({58})),
                            input("h", int64s({8})), input("w", int64s({8}))},
                           attrs({{"axis", std::int64_t{0}}}));
  ASSERT_EQ(y.dtype(), DataType::Int64);
  EXPECT_EQ(values<std::int64_t>(y), (Ints{2, 2, 58, 8, 8}));
}

TEST(CpuShapeArithmetic, ConcatAlongAnInnerAxisOfAnyDtypeMatchesNaiveLoops) {
  // int64 [2, 1, 3] and [2, 2, 3] along axis 1 (negative: -2), and bool the same way.
  const Ints a{1, 2, 3, 4, 5, 6}, b{10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21};
  const Tensor y = run_one("Concat", {input("a", int64s({2, 1, 3}, a)), input("b", int64s({2, 2, 3}, b))},
                           attrs({{"axis", std::int64_t{-2}}}));
  ASSERT_EQ(y.shape(), (Shape{2, 3, 3}));
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t r = 0; r < 3; ++r)
      for (std::size_t c = 0; c < 3; ++c) {
        const std::int64_t expected = r == 0 ? a[n * 3 + c] : b[(n * 2 + r - 1) * 3 + c];
        EXPECT_EQ(y.data<std::int64_t>()[(n * 3 + r) * 3 + c], expected) << n << "," << r << "," << c;
      }
  Tensor t(Shape{1, 2}, DataType::Bool), f(Shape{1, 1}, DataType::Bool);
  t.data<bool>()[0] = true;
  t.data<bool>()[1] = false;
  f.data<bool>()[0] = true;
  const Tensor z = run_one("Concat", {input("t", t), input("f", f)}, attrs({{"axis", std::int64_t{1}}}));
  ASSERT_EQ(z.shape(), (Shape{1, 3}));
  EXPECT_TRUE(z.data<bool>()[0]);
  EXPECT_FALSE(z.data<bool>()[1]);
  EXPECT_TRUE(z.data<bool>()[2]);
}

TEST(CpuShapeArithmetic, Int64MaxAndMinOfSeveralBroadcastInputs) {
  // Clamping computed sizes, as exporters do: Max(a [2, 3], b [3], c [1]) elementwise.
  const Ints a{5, -1, 7, 0, 9, -8}, b{1, 2, 3}, c{4};
  const std::vector<Feed> feeds{input("a", int64s({2, 3}, a)), input("b", int64s(b)), input("c", int64s(c))};
  const Tensor high = run_one("Max", feeds);
  const Tensor low = run_one("Min", feeds);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(high.data<std::int64_t>()[i], std::max({a[i], b[i % 3], c[0]})) << "element " << i;
    EXPECT_EQ(low.data<std::int64_t>()[i], std::min({a[i], b[i % 3], c[0]})) << "element " << i;
  }
}

TEST(CpuShapeArithmetic, ShapeChainOfADynamicBatchRuns) {
  // The channel shuffle PyTorch exports: Reshape(x, Concat(Gather(Shape(x), 0), [2],
  // Div(C, 2), [H], [W])) on a batch known only at run time; Reshape must see [N, 2, 2, 1, 1].
  tern::Graph graph;
  graph.add_input("x", DataType::Float32, Shape{-1, 4, 1, 1});
  graph.add_node("Shape", {"x"}, {"shape"});
  graph.add_constant("zero", int64s(Shape{1}, {0}));
  graph.add_constant("one", int64s(Shape{1}, {1}));
  graph.add_node("Gather", {"shape", "zero"}, {"n"}, attrs({{"axis", std::int64_t{0}}}));
  graph.add_node("Gather", {"shape", "one"}, {"c"}, attrs({{"axis", std::int64_t{0}}}));
  graph.add_constant("two", int64s(Shape{1}, {2}));
  graph.add_node("Div", {"c", "two"}, {"half"});
  graph.add_constant("hw", int64s({1, 1}));
  graph.add_node("Concat", {"n", "two", "half", "hw"}, {"target"}, attrs({{"axis", std::int64_t{0}}}));
  graph.add_node("Reshape", {"x", "target"}, {"y"});
  graph.add_output("y");
  tern::SequentialScheduler scheduler(graph, {"cpu"});
  const Tensor x = floats({3, 4, 1, 1}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  const auto outputs = scheduler.forward({x});
  ASSERT_EQ(outputs.at(0).shape(), (Shape{3, 2, 2, 1, 1}));
  expect_floats_near(outputs.at(0), {3, 2, 2, 1, 1}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0);
}

} // namespace
