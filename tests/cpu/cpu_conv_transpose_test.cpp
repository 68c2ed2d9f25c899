// ConvTranspose on "cpu" against a naive scatter written here (the kernel gathers): each
// input element adds x * w[tap] to output position i * stride - pad_begin + tap * dilation.
// ONNX's own node tests (test_convtranspose_*) run in tern-conformance.
#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include "graphs.hpp"
#include "op_testing.hpp"

using namespace tern::test;

namespace {

using tern::Shape;
using tern::Tensor;

/// The scatter definition over 2-D x [N, C, H, W], w [C, M/g, kh, kw], cropping pads
/// (begin h, begin w) from an output of `out` [N, M, oh, ow].
std::vector<float> scatter(const Tensor& x, const Tensor& w, const std::vector<float>& bias, std::int64_t group,
                           Ints stride, Ints dilation, Ints pad_begin, const Shape& out) {
  const Shape& xs = x.shape();
  const Shape& ws = w.shape();
  const std::int64_t cg = xs[1] / group, mg = ws[1];
  std::vector<float> y(static_cast<std::size_t>(out.numel()));
  for (std::int64_t n = 0; n < out[0]; ++n)
    for (std::int64_t m = 0; m < out[1]; ++m)
      for (std::int64_t i = 0; i < out[2] * out[3]; ++i)
        y[static_cast<std::size_t>((n * out[1] + m) * out[2] * out[3] + i)] = bias[static_cast<std::size_t>(m)];
  for (std::int64_t n = 0; n < xs[0]; ++n)
    for (std::int64_t c = 0; c < xs[1]; ++c)
      for (std::int64_t h = 0; h < xs[2]; ++h)
        for (std::int64_t v = 0; v < xs[3]; ++v)
          for (std::int64_t j = 0; j < mg; ++j)
            for (std::int64_t kh = 0; kh < ws[2]; ++kh)
              for (std::int64_t kw = 0; kw < ws[3]; ++kw) {
                const std::int64_t m = c / cg * mg + j;
                const std::int64_t oh = h * stride[0] - pad_begin[0] + kh * dilation[0];
                const std::int64_t ow = v * stride[1] - pad_begin[1] + kw * dilation[1];
                if (oh < 0 || oh >= out[2] || ow < 0 || ow >= out[3]) continue;
                y[static_cast<std::size_t>(((n * out[1] + m) * out[2] + oh) * out[3] + ow)] +=
                    x.data<float>()[((n * xs[1] + c) * xs[2] + h) * xs[3] + v] *
                    w.data<float>()[((c * mg + j) * ws[2] + kh) * ws[3] + kw];
              }
  return y;
}

TEST(CpuConvTranspose, GroupsStridesDilationsPadsAndOutputPaddingMatchTheScatter) {
  // x [2, 4, 3, 5], group 2, W [4, 3, 3, 2] -> 6 output channels; strides (2, 3), dilations
  // (2, 1), pads (1, 0, 2, 1), output_padding (1, 2): H = 2*2 + 1 + 5 - 1 - 2 = 7,
  // W = 3*4 + 2 + 2 - 0 - 1 = 15.
  const Tensor x = random_tensor({2, 4, 3, 5}, 31);
  const Tensor w = random_tensor({4, 3, 3, 2}, 32);
  const std::vector<float> bias{0.5f, -1.0f, 0.25f, 2.0f, 0.0f, -0.5f};
  const Tensor y = run_one("ConvTranspose", {input("x", x), constant("w", w), constant("b", floats({6}, bias))},
                           attrs({{"group", std::int64_t{2}},
                                  {"strides", Ints{2, 3}},
                                  {"dilations", Ints{2, 1}},
                                  {"pads", Ints{1, 0, 2, 1}},
                                  {"output_padding", Ints{1, 2}}}));
  const Shape out{2, 6, 7, 15};
  expect_floats_near(y, out, scatter(x, w, bias, 2, {2, 3}, {2, 1}, {1, 0}, out), 1e-4f);
}

TEST(CpuConvTranspose, EightBitIntegersSumExactlyInInt32) {
  // The geometry above on the integer form of quantized networks: int8/uint8 X, int8 W,
  // int32 B. The scatter's float sums of these integers are exact (far below 2^24).
  const auto integers = [](const Shape& shape, int offset, int modulus) {
    std::vector<float> values(static_cast<std::size_t>(shape.numel()));
    for (std::size_t i = 0; i < values.size(); ++i)
      values[i] = static_cast<float>(static_cast<int>((i * 53 + 7) % static_cast<std::size_t>(modulus)) + offset);
    return floats(shape, values);
  };
  const Tensor w = integers({4, 3, 3, 2}, -127, 255);
  const std::vector<float> bias{500, -1000, 25, 20000, 0, -5};
  const auto attributes = attrs({{"group", std::int64_t{2}},
                                 {"strides", Ints{2, 3}},
                                 {"dilations", Ints{2, 1}},
                                 {"pads", Ints{1, 0, 2, 1}},
                                 {"output_padding", Ints{1, 2}}});
  const Shape out{2, 6, 7, 15};
  for (const auto& [type, offset] : {std::pair{tern::DataType::UInt8, 0}, std::pair{tern::DataType::Int8, -128}}) {
    const Tensor x = integers({2, 4, 3, 5}, offset, 256);
    const Tensor y = run_one("ConvTranspose",
                             {input("x", x.cast(type)), constant("w", w.cast(tern::DataType::Int8)),
                              constant("b", floats({6}, bias).cast(tern::DataType::Int32))},
                             attributes);
    ASSERT_EQ(y.dtype(), tern::DataType::Int32);
    ASSERT_EQ(y.shape(), out);
    const std::vector<float> want = scatter(x, w, bias, 2, {2, 3}, {2, 1}, {1, 0}, out);
    EXPECT_EQ(y.to_doubles(), std::vector<double>(want.begin(), want.end()));
  }
}

TEST(CpuConvTranspose, UpsamplingByTwoLikeSegmentationDecoders) {
  // The common decoder step: kernel 4, stride 2, pads 1 doubles the size; no bias; a batch
  // known only at run time.
  const Tensor x = random_tensor({3, 2, 4, 4}, 33);
  const Tensor w = random_tensor({2, 2, 4, 4}, 34);
  tern::Graph graph;
  graph.add_input("x", tern::DataType::Float32, Shape{-1, 2, 4, 4});
  graph.add_constant("w", w);
  graph.add_node("ConvTranspose", {"x", "w"}, {"y"}, attrs({{"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}}));
  graph.add_output("y");
  graph.infer_shapes();
  EXPECT_EQ(graph.value("y").shape(), (Shape{-1, 2, 8, 8})) << "inferred before running";
  tern::SequentialScheduler scheduler(graph, {"cpu"});
  const Shape out{3, 2, 8, 8};
  expect_floats_near(scheduler.forward({x}).at(0), out, scatter(x, w, {0, 0}, 1, {2, 2}, {1, 1}, {1, 1}, out), 1e-4f);
}

TEST(CpuConvTranspose, WeightsThatDoNotFitTheInputAreAOneLineError) {
  try {
    run_one("ConvTranspose",
            {input("x", random_tensor({1, 3, 2, 2}, 1)), constant("w", random_tensor({2, 1, 3, 3}, 2))});
    ADD_FAILURE() << "expected tern::Error";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find("reads 2 input channels"), std::string::npos) << e.what();
  }
}

} // namespace
