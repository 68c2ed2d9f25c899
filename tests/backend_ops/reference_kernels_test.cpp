// The reference backend's window and Clip kernels (tests/support/reference_backend.cpp),
// which every backend is compared against in backend_ops_test.cpp, checked here against
// values worked out by hand from the ONNX operator definitions. Kernels are cross-
// correlations (not flipped); MaxPool's padded positions never win.

#include "op_testing.hpp"
#include "reference_backend.hpp"

#include <gtest/gtest.h>

namespace {

using tern::Shape;
using tern::test::attrs;
using tern::test::constant;
using tern::test::floats;
using tern::test::i64;
using tern::test::input;
using tern::test::Ints;
using tern::test::text;

/// One node on "reference" only.
tern::Tensor on_reference(const std::string& op, const std::vector<tern::test::Feed>& feeds,
                          tern::Attributes options = {}) {
  tern::test::register_reference_backend();
  return tern::test::run_op(op, feeds, std::move(options), 1, "reference").at(0);
}

TEST(ReferenceKernels, MaxPool2DTakesTheMaxOfEachWindow) {
  const auto x = floats({1, 1, 4, 4}, {1, 2, 5, 3, /**/ 4, -1, 0, 7, /**/ -3, 8, 6, 2, /**/ 9, 0, -5, 1});
  const auto y =
      on_reference("MaxPool", {input("x", x)}, attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}));
  tern::test::expect_floats_near(y, Shape{1, 1, 2, 2}, {4, 7, 9, 6});
}

TEST(ReferenceKernels, MaxPool2DPaddingNeverWins) {
  // pads [H begin 1, W begin 1, H end 0, W end 0]: window (oh, ow) covers rows oh-1..oh and
  // columns ow-1..ow; every input is negative, so a padded 0 would show.
  const auto x = floats({1, 1, 3, 3}, {-1, -2, -3, /**/ -4, -5, -6, /**/ -7, -8, -9});
  const auto y =
      on_reference("MaxPool", {input("x", x)}, attrs({{"kernel_shape", Ints{2, 2}}, {"pads", Ints{1, 1, 0, 0}}}));
  tern::test::expect_floats_near(y, Shape{1, 1, 3, 3}, {-1, -1, -2, /**/ -1, -1, -2, /**/ -4, -4, -5});
}

TEST(ReferenceKernels, MaxPool1DPadsStridesDilationsCeilModeAndAutoPad) {
  const auto x = floats({1, 1, 5}, {3, -1, 4, 1, -5});
  // one pad before: windows [pad 3] [3 -1] [-1 4] [4 1] [1 -5]
  tern::test::expect_floats_near(
      on_reference("MaxPool", {input("x", x)}, attrs({{"kernel_shape", Ints{2}}, {"pads", Ints{1, 0}}})),
      Shape{1, 1, 5}, {3, 3, 4, 4, 1});
  const auto z = floats({1, 1, 6}, {1, 5, 2, 0, 3, -2});
  // window 3, stride 2 over 6: two windows rounded down, three rounded up: [1 5 2] [2 0 3] [3 -2]
  tern::test::expect_floats_near(
      on_reference("MaxPool", {input("x", z)},
                   attrs({{"kernel_shape", Ints{3}}, {"strides", Ints{2}}, {"ceil_mode", i64(1)}})),
      Shape{1, 1, 3}, {5, 3, 3});
  // taps two apart: max(x0, x2), max(x1, x3), max(x2, x4), max(x3, x5)
  tern::test::expect_floats_near(
      on_reference("MaxPool", {input("x", z)}, attrs({{"kernel_shape", Ints{2}}, {"dilations", Ints{2}}})),
      Shape{1, 1, 4}, {2, 5, 3, 0});
  // SAME over 5 with a window of 2 pads one: at the end (UPPER) or at the beginning (LOWER)
  const auto w = floats({1, 1, 5}, {1, 5, 2, 0, 3});
  tern::test::expect_floats_near(
      on_reference("MaxPool", {input("x", w)}, attrs({{"kernel_shape", Ints{2}}, {"auto_pad", text("SAME_UPPER")}})),
      Shape{1, 1, 5}, {5, 5, 2, 3, 3});
  tern::test::expect_floats_near(
      on_reference("MaxPool", {input("x", w)}, attrs({{"kernel_shape", Ints{2}}, {"auto_pad", text("SAME_LOWER")}})),
      Shape{1, 1, 5}, {1, 5, 5, 2, 3});
}

TEST(ReferenceKernels, Conv1DWithPadsAndBias) {
  // y[i] = x[i-1] + 2 x[i] - x[i+1] + 0.5, zeros outside: an asymmetric kernel, so a
  // flipped one would show
  const auto y = on_reference("Conv",
                              {input("x", floats({1, 1, 5}, {1, 2, 3, 4, 5})),
                               constant("w", floats({1, 1, 3}, {1, 2, -1})), constant("b", floats({1}, {0.5f}))},
                              attrs({{"pads", Ints{1, 1}}}));
  tern::test::expect_floats_near(y, Shape{1, 1, 5}, {0.5f, 2.5f, 4.5f, 6.5f, 14.5f});
}

TEST(ReferenceKernels, Conv1DStridesDilationsChannelsAndGroups) {
  // taps x[2i] and x[2i + 2] weighted 1 and 2: 1 + 2*3, 3 + 2*5
  tern::test::expect_floats_near(
      on_reference("Conv",
                   {input("x", floats({1, 1, 6}, {1, 2, 3, 4, 5, 6})), constant("w", floats({1, 1, 2}, {1, 2}))},
                   attrs({{"strides", Ints{2}}, {"dilations", Ints{2}}})),
      Shape{1, 1, 2}, {7, 13});
  // one output channel summing two input channels, weighted 1 and 10
  tern::test::expect_floats_near(
      on_reference("Conv", {input("x", floats({1, 2, 2}, {1, 2, 3, 4})), constant("w", floats({1, 2, 1}, {1, 10}))}),
      Shape{1, 1, 2}, {31, 42});
  // two groups of one channel each: channel 0 times 2, channel 1 times -1
  tern::test::expect_floats_near(
      on_reference("Conv",
                   {input("x", floats({1, 2, 3}, {1, 2, 3, 10, 20, 30})), constant("w", floats({2, 1, 1}, {2, -1}))},
                   attrs({{"group", i64(2)}})),
      Shape{1, 2, 3}, {2, 4, 6, -10, -20, -30});
}

TEST(ReferenceKernels, ConvAutoPad) {
  // y[i] = x[i + s] + 10 x[i + s + 1] with s = -(pads before); SAME pads one over 4
  const auto x = floats({1, 1, 4}, {1, 2, 3, 4});
  const auto w = floats({1, 1, 2}, {1, 10});
  const auto conv = [&](const char* auto_pad) {
    return on_reference("Conv", {input("x", x), constant("w", w)}, attrs({{"auto_pad", text(auto_pad)}}));
  };
  tern::test::expect_floats_near(conv("SAME_UPPER"), Shape{1, 1, 4}, {21, 32, 43, 4});
  tern::test::expect_floats_near(conv("SAME_LOWER"), Shape{1, 1, 4}, {10, 21, 32, 43});
  tern::test::expect_floats_near(conv("VALID"), Shape{1, 1, 3}, {21, 32, 43});
}

TEST(ReferenceKernels, Conv2DAsymmetricPadsAndStrides) {
  // W picks x[i][j] - x[i+1][j+1]; one pad above and one to the right, stride 2 across:
  // y[oh][ow] = x[oh-1][2ow] - x[oh][2ow+1]
  const auto x = floats({1, 1, 3, 3}, {1, 2, 3, /**/ 4, 5, 6, /**/ 7, 8, 9});
  const auto y = on_reference("Conv", {input("x", x), constant("w", floats({1, 1, 2, 2}, {1, 0, 0, -1}))},
                              attrs({{"pads", Ints{1, 0, 0, 1}}, {"strides", Ints{1, 2}}}));
  tern::test::expect_floats_near(y, Shape{1, 1, 3, 2}, {-2, 0, /**/ -4, 3, /**/ -4, 6});
}

TEST(ReferenceKernels, Conv2DDepthwise) {
  const auto x = floats({1, 2, 2, 2}, {1, 2, 3, 4, /**/ 5, 6, 7, 8});
  const auto y =
      on_reference("Conv", {input("x", x), constant("w", floats({2, 1, 1, 1}, {2, -1}))}, attrs({{"group", i64(2)}}));
  tern::test::expect_floats_near(y, Shape{1, 2, 2, 2}, {2, 4, 6, 8, /**/ -5, -6, -7, -8});
}

TEST(ReferenceKernels, ClipBoundsAreEachOptional) {
  const auto x = floats({3}, {-2, 0.5f, 3});
  const auto bound = [](float v) { return floats(Shape{}, {v}); };
  tern::test::expect_floats_near(
      on_reference("Clip", {input("x", x), constant("lo", bound(-1)), constant("hi", bound(1))}), Shape{3},
      {-1, 0.5f, 1});
  tern::test::expect_floats_near(on_reference("Clip", {input("x", x), constant("lo", bound(0))}), Shape{3},
                                 {0, 0.5f, 3});
  tern::test::expect_floats_near(on_reference("Clip", {input("x", x), {}, constant("hi", bound(1))}), Shape{3},
                                 {-2, 0.5f, 1});
  tern::test::expect_floats_near(on_reference("Clip", {input("x", x)}), Shape{3}, {-2, 0.5f, 3});
}

} // namespace
