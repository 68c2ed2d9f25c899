// PtqClipSearch on "cuda" picks the threshold the PTQ's CPU strategies pick
// (quantization/src/clipping), to the last bit, over histograms of realistic and awkward
// shapes and for 8-bit signed, unsigned and 4-bit levels.
#include "cuda_testing.hpp"

#include "clipping/clipping.hpp"
#include "histogram.hpp"

#include <random>

namespace tern::test {
namespace {

struct Histogram {
  std::string name;
  std::vector<double> counts;
  double bin_width;
  double abs_max;
};

/// A histogram as calibration makes it: ValueStatistics over samples of `draw`.
template <class Draw> Histogram sampled(const std::string& name, Draw draw, std::size_t bins) {
  std::mt19937 random(5);
  std::vector<float> data(200000);
  for (float& v : data) v = static_cast<float>(draw(random));
  ptq::ValueStatistics statistics(bins);
  const Tensor values = floats(Shape{static_cast<std::int64_t>(data.size())}, data);
  statistics.add_extremes(values);
  statistics.add_histogram(values);
  return {name, statistics.counts(), statistics.bin_width(), statistics.abs_max()};
}

std::vector<Histogram> histograms() {
  std::vector<Histogram> all;
  std::normal_distribution<double> normal(0.0, 1.0);
  std::exponential_distribution<double> exponential(3.0);
  std::uniform_real_distribution<double> uniform(-2.0, 2.0);
  all.push_back(sampled(
      "normal", [&](std::mt19937& r) { return normal(r); }, 2048));
  all.push_back(sampled(
      "relu'd laplace", [&](std::mt19937& r) { return exponential(r); }, 2048));
  all.push_back(sampled(
      "uniform", [&](std::mt19937& r) { return uniform(r); }, 2048));
  all.push_back(sampled(
      "normal with outliers", [&](std::mt19937& r) { return r() % 5000 == 0 ? 40.0 : normal(r); }, 2048));
  all.push_back(sampled(
      "normal, 300 bins", [&](std::mt19937& r) { return normal(r); }, 300));
  std::vector<double> sparse(2048, 0.0);
  sparse[0] = 1000;
  sparse[3] = 10;
  sparse[700] = 1;
  sparse[2047] = 2;
  all.push_back({"sparse", sparse, 1.0 / 2048, 1.0});
  return all;
}

double cuda_threshold(const std::string& mode, const ptq::ClipQuery& query) {
  Attributes attrs;
  attrs.set("mode", mode);
  attrs.set("levels", query.levels);
  attrs.set("bin_width", query.bin_width);
  attrs.set("abs_max", query.abs_max);
  const auto bins = static_cast<std::int64_t>(query.counts.size());
  const Tensor counts = Tensor::from(Shape{bins}, DataType::Float64, query.counts);
  return values<double>(run_on("cuda", "PtqClipSearch", {input("counts", counts)}, attrs)[0])[0];
}

TEST(CudaClipSearch, ThresholdsEqualTheCpuStrategies) {
  TERN_REQUIRE_CUDA();
  for (const Histogram& h : histograms())
    for (const std::int64_t levels : {std::int64_t{127}, std::int64_t{255}, std::int64_t{7}}) {
      const ptq::ClipQuery query{h.counts, h.bin_width, h.abs_max, levels, 99.99};
      EXPECT_EQ(cuda_threshold("mse", query), ptq::mse_threshold(query)) << h.name << ", levels " << levels;
      EXPECT_EQ(cuda_threshold("aa", query), ptq::aa_threshold(query)) << h.name << ", levels " << levels;
      EXPECT_EQ(cuda_threshold("kl", query), ptq::kl_threshold(query)) << h.name << ", levels " << levels;
    }
}

} // namespace
} // namespace tern::test
