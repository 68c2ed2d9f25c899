// LayerNormalization on "cpu" against naive loops written here (ONNX's own node tests run in
// tern-conformance): statistics over the axes from `axis` on, Scale broadcast to them, B
// optional, and the Mean / InvStdDev outputs.
#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include "graphs.hpp"
#include "op_testing.hpp"

#include <cmath>

using namespace tern::test;

namespace {

using tern::Shape;
using tern::Tensor;

TEST(CpuLayerNorm, NormalisesEveryRowFromTheAxisOnAndBroadcastsScale) {
  // X [2, 3, 4], axis 1: two rows of 12; Scale [4] broadcasts to [3, 4]; no B.
  const Tensor x = random_tensor({2, 3, 4}, 21);
  const Tensor scale = floats({4}, {0.5f, -1.0f, 2.0f, 1.5f});
  const double epsilon = 1e-3;
  const Tensor y = run_one("LayerNormalization", {input("x", x), constant("scale", scale)},
                           attrs({{"axis", std::int64_t{1}}, {"epsilon", epsilon}}));
  std::vector<float> expected;
  for (int row = 0; row < 2; ++row) {
    const float* v = x.data<float>() + row * 12;
    double mean = 0, variance = 0;
    for (int i = 0; i < 12; ++i) mean += v[i] / 12.0;
    for (int i = 0; i < 12; ++i) variance += (v[i] - mean) * (v[i] - mean) / 12.0;
    for (int i = 0; i < 12; ++i)
      expected.push_back(
          static_cast<float>((v[i] - mean) / std::sqrt(variance + epsilon) * scale.data<float>()[i % 4]));
  }
  expect_floats_near(y, {2, 3, 4}, expected, 1e-5f);
}

TEST(CpuLayerNorm, LastAxisWithBiasAndStatisticsOutputs) {
  // X [3, 2] over the last axis: each row [a, b] becomes [-1, 1] * sign(b - a) (up to
  // epsilon), then * Scale + B; Mean is (a + b) / 2, InvStdDev 1 / sqrt(((b - a) / 2)^2 + eps).
  const Tensor x = floats({3, 2}, {1, 3, -2, 2, 5, 4});
  const auto outputs =
      run_op("LayerNormalization",
             {input("x", x), constant("scale", floats({2}, {2, 3})), constant("b", floats({2}, {1, -1}))},
             attrs({{"epsilon", 0.0}}), 3);
  ASSERT_EQ(outputs.size(), 3u);
  expect_floats_near(outputs[0], {3, 2}, {-1, 2, -1, 2, 3, -4}, 1e-6f);
  expect_floats_near(outputs[1], {3, 1}, {2, 0, 4.5f}, 1e-6f);
  expect_floats_near(outputs[2], {3, 1}, {1, 0.5f, 2}, 1e-6f);
}

TEST(CpuLayerNorm, ScaleThatDoesNotFitTheAxesIsAOneLineError) {
  try {
    run_one("LayerNormalization",
            {input("x", floats({2, 3}, {1, 2, 3, 4, 5, 6})), constant("scale", floats({2}, {1, 1}))});
    ADD_FAILURE() << "expected tern::Error";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find("must broadcast to the normalised axes"), std::string::npos) << e.what();
  }
}

} // namespace
