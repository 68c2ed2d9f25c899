/*@ common */
/* The integer kernels of a Tern C export (C99, no allocation, no state). Activations are
   NCHW, batch 1. The arithmetic is Tern's cpu backend's, integer for integer:
   - Conv/Gemm/MatMul accumulate int8 or uint8 x times int8 (or packed int4) w, plus an
     int32 bias, exactly in int32;
   - requantization is y = clamp(round_half_even(float32(float32(x) * scale)), lo, hi), done
     here in integers: the float32 scale is m * 2^e exactly (m its 24-bit significand) and
     both float32 roundings (of x, and of the product) are reproduced to 24 significant
     bits, half to even, before the final rounding to an integer, half to even. */
#define TERN_S8 0
#define TERN_U8 1
#define TERN_S32 2
#define TERN_S4 3 /* int4 weights, two per byte, low nibble first */

typedef struct {
  const int32_t* m; /* significand of each scale, < 2^24 */
  const int32_t* e; /* its power of two */
  int32_t count;    /* 1 (per tensor) or one per channel */
  int32_t lo, hi;   /* clamp bounds */
  int32_t to;       /* TERN_S8, TERN_U8 or TERN_S32 */
} tern_requant;

/*@ requant */

/* Bits needed to write v (0 for 0). */
static int32_t tern_bit_length(uint64_t v) {
  int32_t n = 0;
  int32_t step;
  for (step = 32; step > 0; step /= 2)
    if (v >> step) {
      v >>= step;
      n += step;
    }
  return n + (int32_t)v;
}

/* round_half_even(v / 2^n) for n >= 1. */
static uint64_t tern_shift_even(uint64_t v, int32_t n) {
  uint64_t q, r, half;
  if (n > 62) return 0; /* v < 2^62 here, below half of 2^63 */
  q = v >> n;
  r = v & ((((uint64_t)1) << n) - 1);
  half = ((uint64_t)1) << (n - 1);
  return q + (uint64_t)(r > half || (r == half && (q & 1)));
}

/* v * 2^*e rounded to float32's 24 significant bits, half to even. */
static uint64_t tern_round24(uint64_t v, int32_t* e) {
  const int32_t extra = tern_bit_length(v) - 24;
  if (extra > 0) {
    v = tern_shift_even(v, extra);
    *e += extra;
    if (v >> 24) { /* rounded up to 2^24 */
      v >>= 1;
      *e += 1;
    }
  }
  return v;
}

static int32_t tern_requantize(int32_t x, const tern_requant* r, int32_t channel) {
  const int32_t c = r->count == 1 ? 0 : channel;
  uint64_t v = x < 0 ? (uint64_t)0 - (uint64_t)(int64_t)x : (uint64_t)x;
  int32_t e = 0;
  int64_t y;
  v = tern_round24(v, &e);                     /* float32(x) */
  v = tern_round24(v * (uint64_t)r->m[c], &e); /* float32(float32(x) * scale) */
  e += r->e[c];
  if (v == 0)
    y = 0;
  else if (e >= 0)
    y = e > 38 ? INT64_MAX : (int64_t)(v << e); /* past 2^62: clamped below anyway */
  else
    y = (int64_t)tern_shift_even(v, -e);
  if (x < 0) y = -y;
  return y < r->lo ? r->lo : (y > r->hi ? r->hi : (int32_t)y);
}

/*@ access */
/* Element i of an activation of type `type` (TERN_S8, TERN_U8 or TERN_S32). */
static int32_t tern_load(const void* p, int32_t type, int32_t i) {
  if (type == TERN_S8) return ((const int8_t*)p)[i];
  if (type == TERN_U8) return ((const uint8_t*)p)[i];
  return ((const int32_t*)p)[i];
}

static void tern_store(void* p, int32_t type, int32_t i, int32_t v) {
  if (type == TERN_S8)
    ((int8_t*)p)[i] = (int8_t)v;
  else if (type == TERN_U8)
    ((uint8_t*)p)[i] = (uint8_t)v;
  else
    ((int32_t*)p)[i] = v;
}

/*@ affine */
/* Weight i: int8, or int4 packed two per byte (low nibble first). */
static int32_t tern_weight(const void* w, int32_t type, int32_t i) {
  if (type == TERN_S8) return ((const int8_t*)w)[i];
  {
    const int32_t byte = ((const uint8_t*)w)[i >> 1];
    const int32_t nibble = (i & 1) ? byte >> 4 : byte & 15;
    return (nibble ^ 8) - 8;
  }
}

/* sum over k < n of x[xi + k * x_step] * w[wi + k]: the inner loop of Conv and Gemm, with
   the common 8-bit pairs as plain loops. */
static int32_t tern_dot(const void* x, int32_t x_type, int32_t xi, int32_t x_step, const void* w, int32_t w_type,
                        int32_t wi, int32_t n) {
  int32_t acc = 0, k;
  if (x_type == TERN_S8 && w_type == TERN_S8) {
    const int8_t *xp = (const int8_t*)x + xi, *wp = (const int8_t*)w + wi;
    for (k = 0; k < n; ++k) acc += xp[k * x_step] * wp[k];
  } else if (x_type == TERN_U8 && w_type == TERN_S8) {
    const uint8_t* xp = (const uint8_t*)x + xi;
    const int8_t* wp = (const int8_t*)w + wi;
    for (k = 0; k < n; ++k) acc += xp[k * x_step] * wp[k];
  } else {
    for (k = 0; k < n; ++k) acc += tern_load(x, x_type, xi + k * x_step) * tern_weight(w, w_type, wi + k);
  }
  return acc;
}

/* An accumulator out: requantized when `r` is given, else as int32. */
static void tern_write(void* y, int32_t i, int32_t acc, const tern_requant* r, int32_t channel) {
  if (r)
    tern_store(y, r->to, i, tern_requantize(acc, r, channel));
  else
    ((int32_t*)y)[i] = acc;
}

/*@ conv */
typedef struct {
  int32_t c, h, w;   /* input channels, height, width */
  int32_t m, oh, ow; /* output channels, height, width */
  int32_t kh, kw;    /* kernel */
  int32_t sh, sw;    /* strides */
  int32_t dh, dw;    /* dilations */
  int32_t ph, pw;    /* padding before (top, left) */
  int32_t group;
  int32_t x_type, w_type;
} tern_conv_shape;

/* The taps [*first, *last) of a kernel of `k` taps, `dilation` apart, that land inside an
   input of `size` when the window starts at `start` (negative inside the padding). */
static void tern_taps(int32_t start, int32_t k, int32_t dilation, int32_t size, int32_t* first, int32_t* last) {
  *first = start < 0 ? (-start + dilation - 1) / dilation : 0;
  *last = start + (k - 1) * dilation < size ? k : (size - 1 - start) / dilation + 1;
  if (*last < *first) *last = *first;
}

static void tern_conv(const tern_conv_shape* s, const void* x, const void* w, const int32_t* bias,
                      const tern_requant* r, void* y) {
  const int32_t cg = s->c / s->group, mg = s->m / s->group;
  int32_t m, oy, ox, ci, ky;
  for (m = 0; m < s->m; ++m) {
    const int32_t c0 = (m / mg) * cg;
    for (oy = 0; oy < s->oh; ++oy) {
      const int32_t y0 = oy * s->sh - s->ph;
      int32_t ky0, ky1;
      tern_taps(y0, s->kh, s->dh, s->h, &ky0, &ky1);
      for (ox = 0; ox < s->ow; ++ox) {
        const int32_t x0 = ox * s->sw - s->pw;
        int32_t kx0, kx1, acc = bias ? bias[m] : 0;
        tern_taps(x0, s->kw, s->dw, s->w, &kx0, &kx1);
        for (ci = 0; ci < cg; ++ci)
          for (ky = ky0; ky < ky1; ++ky)
            acc += tern_dot(x, s->x_type, ((c0 + ci) * s->h + y0 + ky * s->dh) * s->w + x0 + kx0 * s->dw, s->dw, w,
                            s->w_type, ((m * cg + ci) * s->kh + ky) * s->kw + kx0, kx1 - kx0);
        tern_write(y, (m * s->oh + oy) * s->ow + ox, acc, r, m);
      }
    }
  }
}

/*@ gemm */
/* y[rows, n] = x[rows, k] * w + bias, w being [k, n], or [n, k] when trans_w. */
typedef struct {
  int32_t rows, k, n;
  int32_t trans_w;
  int32_t x_type, w_type;
} tern_gemm_shape;

static void tern_gemm(const tern_gemm_shape* s, const void* x, const void* w, const int32_t* bias,
                      const tern_requant* r, void* y) {
  int32_t i, j, p;
  for (i = 0; i < s->rows; ++i)
    for (j = 0; j < s->n; ++j) {
      int32_t acc = bias ? bias[j] : 0;
      if (s->trans_w)
        acc += tern_dot(x, s->x_type, i * s->k, 1, w, s->w_type, j * s->k, s->k);
      else
        for (p = 0; p < s->k; ++p)
          acc += tern_load(x, s->x_type, i * s->k + p) * tern_weight(w, s->w_type, p * s->n + j);
      tern_write(y, i * s->n + j, acc, r, j);
    }
}

/*@ maxpool */
typedef struct {
  int32_t c, h, w, oh, ow;
  int32_t kh, kw, sh, sw, dh, dw, ph, pw;
  int32_t type;
} tern_pool_shape;

/* Padding never wins: a window's maximum is taken over its taps inside the input. */
static void tern_maxpool(const tern_pool_shape* s, const void* x, void* y) {
  int32_t c, oy, ox, ky, kx;
  for (c = 0; c < s->c; ++c)
    for (oy = 0; oy < s->oh; ++oy)
      for (ox = 0; ox < s->ow; ++ox) {
        int32_t best = INT32_MIN;
        for (ky = 0; ky < s->kh; ++ky) {
          const int32_t iy = oy * s->sh - s->ph + ky * s->dh;
          if (iy < 0 || iy >= s->h) continue;
          for (kx = 0; kx < s->kw; ++kx) {
            const int32_t ix = ox * s->sw - s->pw + kx * s->dw;
            int32_t v;
            if (ix < 0 || ix >= s->w) continue;
            v = tern_load(x, s->type, (c * s->h + iy) * s->w + ix);
            if (v > best) best = v;
          }
        }
        tern_store(y, s->type, (c * s->oh + oy) * s->ow + ox, best);
      }
}

/*@ requantize */
/* Elements seen as [outer, channels, inner]; channel c uses scale c. */
static void tern_requantize_tensor(const void* x, int32_t x_type, int32_t outer, int32_t channels, int32_t inner,
                                   const tern_requant* r, void* y) {
  int32_t o, c, i;
  for (o = 0; o < outer; ++o)
    for (c = 0; c < channels; ++c)
      for (i = 0; i < inner; ++i) {
        const int32_t at = (o * channels + c) * inner + i;
        tern_store(y, r->to, at, tern_requantize(tern_load(x, x_type, at), r, c));
      }
}

/*@ add */
/* int32 sums wrap around like Tern's (computed unsigned: no undefined overflow). */
static void tern_add(const int32_t* a, const int32_t* b, int32_t n, int32_t* y) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = (int32_t)((uint32_t)a[i] + (uint32_t)b[i]);
}

/*@ relu */
static void tern_relu(const void* x, int32_t type, int32_t n, void* y) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    const int32_t v = tern_load(x, type, i);
    tern_store(y, type, i, v > 0 ? v : 0);
  }
}

/*@ cast */
static void tern_cast(const void* x, int32_t x_type, int32_t n, void* y, int32_t y_type) {
  int32_t i;
  for (i = 0; i < n; ++i) tern_store(y, y_type, i, tern_load(x, x_type, i));
}

/*@ concat */
/* One input's part of a Concat: `outer` blocks of `bytes`, each placed `stride` bytes apart. */
static void tern_concat_part(const void* x, int32_t outer, int32_t bytes, int32_t stride, void* y) {
  int32_t o;
  for (o = 0; o < outer; ++o) memcpy((uint8_t*)y + o * stride, (const uint8_t*)x + o * bytes, (size_t)bytes);
}

/*@ input */
/* float -> float rounded to the nearest integer, half to even, for |v| < 2^22: adding and
   subtracting 1.5 * 2^23 (no libm; the default rounding mode, as Tern's kernels assume). */
static float tern_round_float(float v) { return (v + 12582912.0f) - 12582912.0f; }

/* Tern's scale_input then the graph's input Requantize: the float input as int8. */
static void tern_quantize_input(const float* x, int32_t n, float scale, float limit, int32_t round_first, int32_t lo,
                                int32_t hi, float r_scale, int8_t* y) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    float v = x[i] * scale;
    v = v < -limit ? -limit : (v > limit ? limit : v);
    if (round_first) v = tern_round_float(v);
    v = v * r_scale;
    v = v >= (float)lo ? (v <= (float)hi ? v : (float)hi) : (float)lo; /* NaN: lo */
    y[i] = (int8_t)tern_round_float(v);
  }
}
