#pragma once
// Round half to even, the rounding of ONNX Round and QuantizeLinear. Written out instead of
// std::nearbyint so the result does not depend on the thread's floating-point rounding mode.

#include <cmath>

namespace tern::cpu::native {

inline float round_half_even(float x) {
  const float nearest = std::round(x); // halves away from zero
  if (std::fabs(x - std::trunc(x)) != 0.5f) return nearest;
  return 2.0f * std::round(0.5f * x); // a tie: the even neighbour
}

} // namespace tern::cpu::native
