// PtqHistogram on "cuda" equals the cpu kernel and the PTQ's own ValueStatistics, with bins
// in shared memory (the default 2048) and, past what shared memory holds, in global memory.
#include "cuda_testing.hpp"
#include "ptq_test_data.hpp"

#include "histogram.hpp"

namespace tern::test {
namespace {

std::vector<std::int64_t> histogram_on(const std::string& backend, const Tensor& x, double range, std::int64_t bins) {
  Attributes attrs;
  attrs.set("bins", bins);
  const Tensor limit = Tensor::from(Shape{1}, DataType::Float64, std::vector<double>{range});
  return values<std::int64_t>(run_on(backend, "PtqHistogram", {input("x", x), input("range", limit)}, attrs)[0]);
}

TEST(CudaHistogram, EqualsTheCpuKernelAndValueStatistics) {
  TERN_REQUIRE_CUDA();
  const std::size_t count = env_count("TERN_CUDA_HISTOGRAM_VALUES", 10'000'001);
  // Finite values only: ValueStatistics refuses the others.
  const Tensor x = floats(Shape{static_cast<std::int64_t>(count)}, awkward_floats(count, 21, 5.0f));
  for (const std::int64_t bins : {std::int64_t{1}, std::int64_t{2048}, std::int64_t{20000}}) {
    ptq::ValueStatistics statistics(static_cast<std::size_t>(bins));
    statistics.add_extremes(x);
    statistics.add_histogram(x);
    const std::vector<std::int64_t> cuda = histogram_on("cuda", x, statistics.range(), bins);
    EXPECT_EQ(cuda, histogram_on("cpu", x, statistics.range(), bins)) << bins << " bins";
    const std::vector<double> expected = statistics.counts();
    EXPECT_EQ(std::vector<double>(cuda.begin(), cuda.end()), expected) << bins << " bins";
  }
}

TEST(CudaHistogram, LeavesNanUncountedAndPutsEverythingAboveTheRangeInTheLastBin) {
  TERN_REQUIRE_CUDA();
  const Tensor x = floats(Shape{7}, {NAN, 0.0f, -0.99f, 1.0f, 5.0f, -INFINITY, 2.0f});
  EXPECT_EQ(histogram_on("cuda", x, 2.0, 2), (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(histogram_on("cpu", x, 2.0, 2), (std::vector<std::int64_t>{2, 4}));
}

} // namespace
} // namespace tern::test
