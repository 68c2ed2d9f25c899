/* The C export's integer requantization (c/kernels.c) against the definition it
   reproduces, computed by the float32 hardware: clamp(round_half_even(float32(float32(x) *
   scale)), lo, hi) — on accumulators over the whole int32 range (float32(x) rounds above
   2^24), scales from 2^-40 to 2^12, exact ties, and the int32 bounds. Exit status 0 when
   every case agrees, else the first difference is printed. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernels.c"

static uint64_t state = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void) { /* xorshift64: deterministic */
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static int64_t reference(int32_t x, float scale, int32_t lo, int32_t hi) {
  const float v = (float)x * scale;
  const double r = (double)nearbyintf(v); /* the default mode: to nearest, ties to even */
  return r < lo ? lo : (r > hi ? hi : (int64_t)r);
}

static int check(int32_t x, float scale, int32_t lo, int32_t hi) {
  int exponent = 0;
  const float significand = frexpf(scale, &exponent);
  const int32_t m = (int32_t)ldexpf(significand, 24), e = scale == 0.0f ? 0 : exponent - 24;
  const tern_requant r = {&m, &e, 1, lo, hi, TERN_S32};
  const int64_t want = reference(x, scale, lo, hi), got = tern_requantize(x, &r, 0);
  if (want == got) return 0;
  printf("x=%ld scale=%a [%ld, %ld]: float32 gives %lld, the integers %lld\n", (long)x, (double)scale, (long)lo,
         (long)hi, (long long)want, (long long)got);
  return 1;
}

int main(void) {
  const int32_t wide_lo = -2147483647 - 1, wide_hi = 2147483647;
  long cases = 0;
  int i, k;
  for (i = 0; i < 2000000; ++i) {
    const int bits = (int)(next_random() % 32); /* magnitudes of every size */
    const int32_t x = (int32_t)(uint32_t)(next_random() >> (32 + (31 - bits)));
    const int32_t signed_x = (next_random() & 1) ? x : -x;
    const float scale = ldexpf(1.0f + (float)(next_random() % 8388608) / 8388608.0f, (int)(next_random() % 53) - 40);
    if (check(signed_x, scale, wide_lo, wide_hi) || check(signed_x, scale, -128, 127) || check(signed_x, scale, 0, 255))
      return 1;
    cases += 3;
  }
  for (k = 1; k <= 24; ++k) /* exact ties: x odd, scale 2^-k */
    for (i = -4099; i <= 4099; i += 2) {
      if (check(i << (k > 8 ? 8 : k - 1), ldexpf(1.0f, -k), wide_lo, wide_hi)) return 1;
      ++cases;
    }
  {
    const int32_t edges[] = {wide_lo, wide_lo + 1, -16777217, -16777216, -1,     0,
                             1,       16777215,    16777217,  33554435,  wide_hi};
    const float scales[] = {0.0f, FLT_MIN, 1e-30f, 0.5f, 1.0f, 1.5f, 3.0f, 1e6f, FLT_MAX};
    size_t a, b;
    for (a = 0; a < sizeof edges / sizeof edges[0]; ++a)
      for (b = 0; b < sizeof scales / sizeof scales[0]; ++b) {
        if (check(edges[a], scales[b], wide_lo, wide_hi) || check(edges[a], scales[b], -127, 127)) return 1;
        cases += 2;
      }
  }
  printf("%ld cases: the integer requantization equals float32's\n", cases);
  return 0;
}
