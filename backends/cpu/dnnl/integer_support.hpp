#pragma once
// What oneDNN's int8 Conv and matmul kernels share (see the core's integer_affine.hpp):
// whether this CPU's int8 primitives are exact at all, the primitive attributes of a fused
// requantization, and whether oneDNN's float32 bias addition is provably exact. Only
// dnnl/*.cpp include this.

#include "context.hpp"
#include "native/requantize.hpp"

#include <optional>

namespace tern::cpu::onednn {

/// True when oneDNN's int8 primitives compute `node` (Conv, Gemm, MatMul: weights are
/// input 1) exactly on this CPU. With VNNI (vpdpbusd) they always do. Without it they add
/// u8 x s8 pairs with a saturating 16-bit instruction (vpmaddubsw): 255 · (|w1| + |w2|)
/// must stay within int16, so only a uint8 X (non-negative activations, tern quantize
/// --optimize-signs) with constant weights within ±63 (--reduce-range) is exact. The ISA
/// is read once from oneDNN, so DNNL_MAX_CPU_ISA=AVX2 selects the path of CPUs without VNNI.
/// A 1x1 Conv with strides is never taken (a race in oneDNN 2.6's int8 kernel for it).
bool int8_primitives_exact(const Node& node);

/// True when the Conv kernel runs `node`'s int8 X as uint8 X + 128 (CPUs without VNNI): it
/// adds 128 to every byte and subtracts 128 · sum(W) per output channel from the bias, so
/// sum((x + 128) w) + b - 128 sum(w) = sum(x w) + b exactly; it pads X itself with 128 (the
/// shifted zero), where oneDNN would pad with 0. The bias must be constant (compensated once).
bool shifted_int8_x(const Node& node);

/// The attributes that make oneDNN requantize in the primitive: output scales (one, or
/// one per channel along dst dimension `channel_dim`) and a clip to [lo, hi]. oneDNN then
/// computes clip(float32(acc + bias) * scale) and converts to the dst type rounding half to
/// even and saturating, which is the Requantize formula when the bias sum is exact (below).
dnnl::primitive_attr requantize_attr(const native::Requantization& r, int channel_dim);

/// oneDNN adds the bias in float32 before scaling: exact, so equal to float32 of the int32
/// sum, when every |accumulation| + |bias| stays below 2^24. True when that is proven for
/// every output channel from constant weights: `weights` holds per channel `stride_channel`
/// apart, its `count` taps `stride_tap` apart; `x_max` is the largest |x| (255 for uint8,
/// 128 for int8). nullptr weights or bias (computed at run time) prove nothing.
bool bias_sum_exact(const Tensor* weights, const Tensor* bias, std::int64_t channels, std::int64_t count,
                    std::int64_t stride_channel, std::int64_t stride_tap, std::int64_t x_max);

/// The constant data of input `index` of `node`, or nullptr (absent or computed).
const Tensor* constant_input(const Node& node, std::size_t index);

} // namespace tern::cpu::onednn
