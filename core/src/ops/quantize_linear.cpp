// QuantizeLinear and DequantizeLinear: y = saturate(round(x / scale) + zero_point) and
// x = (q - zero_point) * scale, per tensor (scalar scale) or per axis (1-D scale).
#include "builtin_schemas.hpp"
#include <tern/schema_helpers.hpp>

namespace tern::detail {
namespace {

constexpr std::size_t scale_input = 1;
constexpr std::size_t zero_point_input = 2;

/// Checks the scale (float32; a scalar, or 1-D with one value per slice along attribute
/// `axis` of input 0; a 1-element 1-D scale is per tensor, as onnxruntime reads it) and
/// the optional zero point (the scale's shape, or one value for one, of a dtype in `zero_point_types`).
void check_scale_and_zero_point(const InferenceContext& ctx, std::initializer_list<DataType> zero_point_types) {
  ctx.require(ctx.dtype(scale_input) == DataType::Float32,
              [&] { return describe_input(ctx, scale_input) + " must be float32"; });
  require_rank(ctx, scale_input, 0, 1);
  const Shape& scale = ctx.shape(scale_input);
  const Shape& x = ctx.shape(0);
  // Per tensor, ONNX ignores the axis (it may not even exist, e.g. for a 1-D x).
  if (scale.rank() == 1 && scale[0] != 1) {
    const std::size_t axis = resolve_axis(ctx, "attribute 'axis'", ctx.attr<std::int64_t>("axis"), x.rank());
    ctx.require(x[axis] == Shape::dynamic || scale[0] == x[axis], [&] {
      return describe_input(ctx, scale_input) + " has " + std::to_string(scale[0]) +
             " values for per-axis quantization along axis " + std::to_string(axis) + ", but " +
             describe_input(ctx, 0) + " has " + std::to_string(x[axis]) + " there";
    });
  }
  if (!ctx.has_input(zero_point_input)) return;
  const DataType zero_point = ctx.dtype(zero_point_input);
  bool allowed = false;
  std::string names;
  for (const DataType type : zero_point_types) {
    allowed = allowed || type == zero_point;
    names += (names.empty() ? "" : ", ") + std::string(name(type));
  }
  ctx.require(allowed, [&] { return describe_input(ctx, zero_point_input) + " must be one of " + names; });
  // A scalar and a 1-element 1-D tensor are both per tensor (ONNX Runtime writes one of each
  // for a BatchNormalization's bias).
  const Shape& zero_point_shape = ctx.shape(zero_point_input);
  const bool both_single = zero_point_shape.numel() == 1 && scale.numel() == 1;
  ctx.require(both_single || zero_point_shape == scale, [&] {
    return describe_input(ctx, zero_point_input) + " must have the shape of " + describe_input(ctx, scale_input);
  });
}

// The zero point's dtype is the output's; without one the output is uint8 (ONNX).
void infer_quantize_linear(InferenceContext& ctx) {
  ctx.require(ctx.dtype(0) == DataType::Float32, [&] { return describe_input(ctx, 0) + " must be float32"; });
  check_scale_and_zero_point(ctx, {DataType::Int8, DataType::UInt8});
  const DataType out = ctx.has_input(zero_point_input) ? ctx.dtype(zero_point_input) : DataType::UInt8;
  ctx.set_output(0, out, ctx.shape(0));
}

// int32 input is a quantized bias: ONNX requires its zero point (if any) to be 0.
void infer_dequantize_linear(InferenceContext& ctx) {
  const DataType x = ctx.dtype(0);
  ctx.require(x == DataType::Int8 || x == DataType::UInt8 || x == DataType::Int32,
              [&] { return describe_input(ctx, 0) + " must be int8, uint8 or int32"; });
  check_scale_and_zero_point(ctx, {x});
  if (const Tensor* zero_point = ctx.value(zero_point_input); x == DataType::Int32 && zero_point != nullptr) {
    for (const std::int64_t z : zero_point->to_int64s())
      ctx.require(z == 0, [&] {
        return describe_input(ctx, zero_point_input) + " holds " + std::to_string(z) +
               "; an int32 input must have zero point 0";
      });
  }
  ctx.set_output(0, DataType::Float32, ctx.shape(0));
}

} // namespace

std::vector<OpSchema> quantize_linear_schemas() {
  return {
      {"QuantizeLinear", 2, 3, 1, 1, {int_attr("axis", 1)}, infer_quantize_linear},
      {"DequantizeLinear", 2, 3, 1, 1, {int_attr("axis", 1)}, infer_dequantize_linear},
  };
}

} // namespace tern::detail
