#pragma once
// Round half to even, the rounding of ONNX Round, QuantizeLinear and Requantize. Below 2^22
// it relies on the default round-to-nearest mode (as oneDNN's own float-to-int conversions
// do); above, it is written out without depending on the mode.

#include <cmath>

namespace tern::cpu::native {

/// Round half to even of |x| < 2^22: adding and subtracting 1.5·2^23 rounds to the nearest
/// integer, ties to even, in the default rounding mode: two exact float operations the
/// compiler can vectorise, where std::round/trunc are libm calls on baseline x86-64.
inline float round_half_even_small(float x) {
  constexpr float magic = 12582912.0f;
  return (x + magic) - magic;
}

inline float round_half_even(float x) {
  // copysign keeps -0.
  if (std::fabs(x) < 4194304.0f) return std::copysign(round_half_even_small(x), x);
  const float nearest = std::round(x); // halves away from zero (also NaN and infinities)
  if (std::fabs(x - std::trunc(x)) != 0.5f) return nearest;
  return 2.0f * std::round(0.5f * x); // a tie: the even neighbour
}

} // namespace tern::cpu::native
