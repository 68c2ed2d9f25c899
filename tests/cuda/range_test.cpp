// PtqRange on "cuda" equals the cpu kernel: per tensor (odd sizes, so the vector loop's tail
// runs) and per channel, with NaN and infinities counted.
#include "cuda_testing.hpp"
#include "ptq_test_data.hpp"

namespace tern::test {
namespace {

void expect_same_ranges(const Tensor& x, Attributes attrs) {
  const std::vector<Tensor> cpu = run_on("cpu", "PtqRange", {input("x", x)}, attrs, 2);
  const std::vector<Tensor> cuda = run_on("cuda", "PtqRange", {input("x", x)}, attrs, 2);
  ASSERT_EQ(cuda[0].shape(), cpu[0].shape());
  EXPECT_EQ(values<float>(cuda[0]), values<float>(cpu[0])); // == : -0 and +0 are the same extreme
  EXPECT_EQ(values<std::int64_t>(cuda[1]), values<std::int64_t>(cpu[1]));
}

TEST(CudaRange, EqualsTheCpuPerTensor) {
  TERN_REQUIRE_CUDA();
  for (const std::size_t count : {std::size_t{1}, std::size_t{1027}, env_count("TERN_CUDA_RANGE_VALUES", 10'000'003)}) {
    std::vector<float> data = awkward_floats(count, 11, 3.0f);
    expect_same_ranges(floats(Shape{static_cast<std::int64_t>(count)}, data), {});
    data[count / 2] = NAN;
    data[count / 3] = -INFINITY;
    expect_same_ranges(floats(Shape{static_cast<std::int64_t>(count)}, data), {});
  }
}

TEST(CudaRange, EqualsTheCpuPerChannel) {
  TERN_REQUIRE_CUDA();
  const Shape shape{16, 96, 33, 17};
  std::vector<float> data = awkward_floats(static_cast<std::size_t>(shape.numel()), 12, 0.7f);
  data[5] = NAN;
  for (const std::int64_t axis : {0, 1, 3, -1}) {
    Attributes attrs;
    attrs.set("axis", axis);
    expect_same_ranges(floats(shape, data), attrs);
  }
}

} // namespace
} // namespace tern::test
