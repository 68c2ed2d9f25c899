// The cpu kernels of PtqRange, PtqHistogram and PtqFakeQuantize (the reference the "cuda"
// plugin is compared with) against naive loops, and PtqFakeQuantize against the graph
// Mul -> Round -> Clip -> Mul it stands for, bit for bit.
#include "op_testing.hpp"
#include "ptq_test_data.hpp"

#include <tern/tern.hpp>

#include <cstring>

namespace tern::test {
namespace {

/// The operators are the PTQ plugin's own (domain "tern.ptq"): their schemas come with it.
class PtqStatisticsCpu : public ::testing::Test {
protected:
  void SetUp() override { PluginHost::instance().load("ptq"); }
};

TEST_F(PtqStatisticsCpu, RangePerTensorAndPerChannelIgnoresNanAndCountsNonFinite) {
  const Tensor x = floats(Shape{2, 3, 2}, {1, -2, 3, NAN, -0.5f, 0.25f, 7, INFINITY, -8, 2, 0, 0});
  const std::vector<Tensor> whole = run_op("PtqRange", {input("x", x)}, {}, 2);
  EXPECT_EQ(values<float>(whole[0]), (std::vector<float>{-8, INFINITY, INFINITY}));
  EXPECT_EQ(values<std::int64_t>(whole[1]), (std::vector<std::int64_t>{2}));
  Attributes axis;
  axis.set("axis", std::int64_t{1});
  const std::vector<Tensor> channels = run_op("PtqRange", {input("x", x)}, axis, 2);
  ASSERT_EQ(channels[0].shape(), (Shape{3, 3}));
  // channel 0: 1, -2, 7, INF; channel 1: 3, NaN, -8, 2; channel 2: -0.5, 0.25, 0, 0
  EXPECT_EQ(values<float>(channels[0]), (std::vector<float>{-2, INFINITY, INFINITY, -8, 3, 8, -0.5f, 0.25f, 0.5f}));
  EXPECT_EQ(values<std::int64_t>(channels[1]), (std::vector<std::int64_t>{1, 1, 0}));
}

TEST_F(PtqStatisticsCpu, HistogramBinsAbsoluteValuesLikeValueStatistics) {
  const std::vector<float> data = awkward_floats(100000, 7, 3.7f);
  const double range = 500.0;
  const std::int64_t bins = 64;
  Attributes attrs;
  attrs.set("bins", bins);
  const Tensor counts = run_op("PtqHistogram",
                               {input("x", floats(Shape{100000}, data)),
                                input("range", Tensor::from(Shape{1}, DataType::Float64, std::vector<double>{range}))},
                               attrs)[0];
  std::vector<std::int64_t> expected(bins, 0);
  const double scale = static_cast<double>(bins) / range;
  for (const float v : data) {
    const double position = static_cast<double>(std::abs(v)) * scale;
    ++expected[static_cast<std::size_t>(position < static_cast<double>(bins) ? static_cast<std::int64_t>(position)
                                                                             : bins - 1)];
  }
  EXPECT_EQ(values<std::int64_t>(counts), expected);
}

void expect_fake_quantize_matches_graph(const Shape& shape, const std::vector<float>& factors,
                                        const std::vector<float>& scales, float lo, float hi, std::uint32_t seed) {
  const Tensor x = floats(shape, awkward_floats(static_cast<std::size_t>(shape.numel()), seed, factors[0], hi));
  const Graph graph = fake_quantize_graph(shape, factors, scales, lo, hi);
  const Tensor expected = SequentialScheduler(graph, {"cpu"}).forward({x})[0];
  const Tensor actual = run_one("PtqFakeQuantize", {input("x", x)}, fake_quantize_attributes(factors, scales, lo, hi));
  ASSERT_EQ(actual.shape(), expected.shape());
  EXPECT_EQ(std::memcmp(actual.raw(), expected.raw(), expected.bytes()), 0);
}

TEST_F(PtqStatisticsCpu, FakeQuantizeIsBitIdenticalToMulRoundClipMul) {
  expect_fake_quantize_matches_graph(Shape{4096, 16}, {4.0f}, {0.25f}, -128, 127, 1);
  expect_fake_quantize_matches_graph(Shape{4096, 16}, {127.0f / 2.3f}, {2.3f / 127.0f}, -128, 127, 2);
  expect_fake_quantize_matches_graph(Shape{4096, 16}, {255.0f / 6.1f}, {6.1f / 255.0f}, 0, 255, 3);
  expect_fake_quantize_matches_graph(Shape{8, 3, 16, 16}, {10.5f, 0.37f, 1000.0f}, {1 / 10.5f, 1 / 0.37f, 1e-3f}, -8, 7,
                                     4);
}

} // namespace
} // namespace tern::test
