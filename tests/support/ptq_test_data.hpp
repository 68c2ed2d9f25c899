#pragma once
// Awkward float32 data for the PTQ statistics operators (tests/cpu, tests/cuda): uniform
// values, exact ties at .5 after multiplication by a factor, the largest and smallest
// floats, denormals, signed zeros and values at the clipping bounds.

#include <tern/graph.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace tern::test {

/// `count` finite values, reproducible by `seed`; `factor` is the multiplier whose ties
/// (x * factor == k + 0.5 exactly in float32) a quarter of the values hit; `levels` sets
/// where those ties and the values at the clipping bounds lie.
inline std::vector<float> awkward_floats(std::size_t count, std::uint32_t seed, float factor, float levels = 127.0f) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(-1.5f * levels, 1.5f * levels);
  std::uniform_int_distribution<int> tie(-static_cast<int>(levels) - 2, static_cast<int>(levels) + 1);
  const float specials[] = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::max(),
                            -std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::min(),
                            -std::numeric_limits<float>::min(),
                            std::numeric_limits<float>::denorm_min(),
                            -std::numeric_limits<float>::denorm_min(),
                            1e-40f,
                            -3e-39f,
                            1e30f,
                            -1e30f,
                            (levels + 0.5f) / factor,
                            -(levels + 1.5f) / factor,
                            levels / factor,
                            -levels / factor};
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i) {
    switch (random() % 8) {
    case 0:
    case 1: {
      // x with x * factor exactly k + 0.5: the quotient, or one of its float neighbours.
      const float target = static_cast<float>(tie(random)) + 0.5f;
      float x = target / factor;
      for (int step = 0; step < 4 && x * factor != target; ++step)
        x = std::nextafter(x, x * factor < target ? (factor > 0 ? INFINITY : -INFINITY)
                                                  : (factor > 0 ? -INFINITY : INFINITY));
      values[i] = x;
      break;
    }
    case 2: values[i] = specials[random() % (sizeof specials / sizeof specials[0])]; break;
    default: values[i] = uniform(random) / factor;
    }
  }
  return values;
}

/// x (float32, `shape`) -> Mul(factor) -> Round -> Clip(lo, hi) -> Mul(scale) -> y: the
/// fake quantization the PTQ writes, with one factor and scale per tensor or, with several,
/// per channel along axis 1 (float32 constants shaped [1, C, 1, ...]).
inline Graph fake_quantize_graph(const Shape& shape, const std::vector<float>& factors,
                                 const std::vector<float>& scales, float lo, float hi) {
  Graph graph;
  graph.add_input("x", DataType::Float32, shape);
  std::vector<std::int64_t> dims(shape.rank(), 1);
  if (factors.size() > 1) dims[1] = static_cast<std::int64_t>(factors.size());
  const Shape constant_shape = factors.size() > 1 ? Shape(dims) : Shape{};
  graph.add_constant("factor", Tensor::from_floats(constant_shape, factors));
  graph.add_constant("scale", Tensor::from_floats(constant_shape, scales));
  graph.add_constant("lo", Tensor::from_floats(Shape{}, {lo}));
  graph.add_constant("hi", Tensor::from_floats(Shape{}, {hi}));
  graph.add_node("Mul", {"x", "factor"}, {"scaled"});
  graph.add_node("Round", {"scaled"}, {"rounded"});
  graph.add_node("Clip", {"rounded", "lo", "hi"}, {"clipped"});
  graph.add_node("Mul", {"clipped", "scale"}, {"y"});
  graph.add_output("y");
  return graph;
}

/// PtqFakeQuantize's attributes for the same quantization.
inline Attributes fake_quantize_attributes(const std::vector<float>& factors, const std::vector<float>& scales,
                                           float lo, float hi) {
  Attributes attrs;
  attrs.set("factor", std::vector<double>(factors.begin(), factors.end()));
  attrs.set("scale", std::vector<double>(scales.begin(), scales.end()));
  attrs.set("lo", static_cast<double>(lo));
  attrs.set("hi", static_cast<double>(hi));
  return attrs;
}

} // namespace tern::test
