// PtqFakeQuantize on "cuda" is bit-identical to the cpu graph Mul -> Round -> Clip -> Mul
// (and to the cpu kernel) on 10^8 awkward values per tensor (ties at .5, the largest floats,
// denormals, signed zeros; TERN_CUDA_FAKE_QUANT_VALUES changes the count) and per channel.
#include "cuda_testing.hpp"
#include "ptq_test_data.hpp"

#include <cstring>

namespace tern::test {
namespace {

/// Index of the first differing float (by bits), or -1.
std::int64_t first_difference(const Tensor& a, const Tensor& b) {
  const auto* x = static_cast<const std::uint32_t*>(a.raw());
  const auto* y = static_cast<const std::uint32_t*>(b.raw());
  for (std::int64_t i = 0; i < a.numel(); ++i)
    if (x[i] != y[i]) return i;
  return -1;
}

void expect_bit_identical(const Shape& shape, const std::vector<float>& factors, const std::vector<float>& scales,
                          float lo, float hi, std::uint32_t seed) {
  const Tensor x = floats(shape, awkward_floats(static_cast<std::size_t>(shape.numel()), seed, factors[0], hi));
  const Graph graph = fake_quantize_graph(shape, factors, scales, lo, hi);
  const Tensor expected = SequentialScheduler(graph, {"cpu"}).forward({x})[0];
  const Attributes attrs = fake_quantize_attributes(factors, scales, lo, hi);
  const Tensor cuda = run_on("cuda", "PtqFakeQuantize", {input("x", x)}, attrs)[0];
  ASSERT_EQ(cuda.shape(), expected.shape());
  const std::int64_t at = first_difference(cuda, expected);
  EXPECT_EQ(at, -1) << "x = " << (at >= 0 ? x.data<float>()[at] : 0.0f) << ": cuda "
                    << (at >= 0 ? cuda.data<float>()[at] : 0.0f) << ", cpu graph "
                    << (at >= 0 ? expected.data<float>()[at] : 0.0f);
  const Tensor cpu = run_on("cpu", "PtqFakeQuantize", {input("x", x)}, attrs)[0];
  EXPECT_EQ(first_difference(cuda, cpu), -1);
}

TEST(CudaFakeQuantize, PerTensorIsBitIdenticalToTheCpuGraph) {
  TERN_REQUIRE_CUDA();
  const auto count = static_cast<std::int64_t>(env_count("TERN_CUDA_FAKE_QUANT_VALUES", 100'000'000));
  expect_bit_identical(Shape{count}, {127.0f / 2.3f}, {2.3f / 127.0f}, -128, 127, 31);
  expect_bit_identical(Shape{count / 10 + 3}, {4.0f}, {0.25f}, -128, 127, 32);
  expect_bit_identical(Shape{count / 10 + 1}, {255.0f / 6.1f}, {6.1f / 255.0f}, 0, 255, 33);
}

TEST(CudaFakeQuantize, PerChannelIsBitIdenticalToTheCpuGraph) {
  TERN_REQUIRE_CUDA();
  expect_bit_identical(Shape{32, 3, 64, 63}, {10.5f, 0.37f, 1000.0f}, {1 / 10.5f, 1 / 0.37f, 1e-3f}, -8, 7, 34);
  std::vector<float> factors, scales;
  for (int c = 0; c < 64; ++c) {
    factors.push_back(127.0f / (0.1f + 0.05f * static_cast<float>(c)));
    scales.push_back(1.0f / factors.back());
  }
  expect_bit_identical(Shape{16, 64, 15, 15}, factors, scales, -128, 127, 35);
}

} // namespace
} // namespace tern::test
