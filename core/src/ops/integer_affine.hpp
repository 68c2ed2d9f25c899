#pragma once
/// \file integer_affine.hpp
/// Integer execution of the affine ops (Conv, Gemm, MatMul) and requantization, the two
/// halves of what a PTQ pass emits:
///   - with X int8/uint8, W int8 and an optional int32 bias, the op yields the exact int32
///     accumulation sum(x * w) + b (no zero points);
///   - Requantize (and the Tern-extension attributes requantize_scale, requantize_lo,
///     requantize_hi, requantize_to that fuse it into the op) maps it back to 8 bits:
///     y = clamp(nearbyint_half_even(float32(x) * float32(scale[c])), lo, hi), the product
///     being one float32 multiplication, so that it equals the fake-quantized float graph
///     Mul -> Round -> Clip bit for bit.

#include <tern/operator.hpp>

#include <string>
#include <vector>

namespace tern::detail {

/// The parameters of one requantization, as attributes name them.
struct RequantizeParams {
  std::vector<double> scale;
  std::int64_t lo = 0;
  std::int64_t hi = 0;
  std::string to;
};

/// Checks `params` (lo <= hi, [lo, hi] within `to`, `to` one of int8/uint8/int32, one scale
/// or one per channel of `channels`) and returns the output dtype. `prefix` ("" or
/// "requantize_") names the attributes in errors; `axis_text` says where the channels are.
DataType check_requantize(const InferenceContext& ctx, const RequantizeParams& params, const std::string& prefix,
                          std::int64_t channels, const std::string& axis_text);

/// `attributes` plus the optional requantize_scale, requantize_lo, requantize_hi and
/// requantize_to (no defaults: absent means no fused requantization).
std::vector<AttributeSpec> with_fused_requantize(std::vector<AttributeSpec> attributes);

/// True when input 0 of the affine op is int8/uint8; then checks that input 1 (W) is int8,
/// an optional input `bias` (when present) int32, and that no float-only extension (a fused
/// activation) is set. False for the float forms, whose own checks apply.
bool integer_affine(const InferenceContext& ctx, std::size_t bias);

/// The output dtype of an affine op: input 0's for the float forms; for integer ones int32,
/// or `requantize_to` when fused (its parameters checked against `channels`, the size of
/// Y along the per-channel axis named by `axis_text`). Fails on requantize_* attributes
/// without integer inputs.
DataType affine_output_dtype(const InferenceContext& ctx, bool integer, std::int64_t channels,
                             const std::string& axis_text);

} // namespace tern::detail
