// Requantize: an int32 accumulation (or float32, int8, uint8 tensor) scaled back to 8 bits,
// y = clamp(nearbyint_half_even(float32(x) * float32(scale[c])), lo, hi); see
// integer_affine.hpp for why the product is one float32 multiplication.
// RequantizeAdd: the integer residual Add in one node (the fuse_requantize_add recipe),
// Requantize(Add(Requantize(A; a_scale -> int32), Requantize(B; b_scale -> int32))).
#include "builtin_schemas.hpp"
#include "integer_affine.hpp"
#include <tern/schema_helpers.hpp>

namespace tern::detail {
namespace {

void infer_requantize(InferenceContext& ctx) {
  const DataType x = ctx.dtype(0);
  ctx.require(x == DataType::Float32 || x == DataType::Int32 || x == DataType::Int8 || x == DataType::UInt8,
              [&] { return describe_input(ctx, 0) + " must be float32, int32, int8 or uint8"; });
  const RequantizeParams params{ctx.attr<std::vector<double>>("scale"), ctx.attr<std::int64_t>("lo"),
                                ctx.attr<std::int64_t>("hi"), ctx.attr<std::string>("to")};
  std::int64_t channels = 1;
  std::string axis_text = "per tensor";
  // The axis matters only per channel (a 1-value scale works on any rank, even 0).
  if (params.scale.size() != 1) {
    const std::size_t axis = resolve_axis(ctx, "attribute 'axis'", ctx.attr<std::int64_t>("axis"), ctx.shape(0).rank());
    channels = ctx.shape(0)[axis];
    axis_text = "dimension " + std::to_string(axis) + " of " + describe_input(ctx, 0);
  }
  ctx.set_output(0, check_requantize(ctx, params, "", channels, axis_text), ctx.shape(0));
}

/// The channel count along `axis` for per-channel scales (dynamic when not known yet).
std::int64_t channels_along(const InferenceContext& ctx, const Shape& shape, const std::vector<double>& scale) {
  if (scale.size() == 1) return 1;
  const std::size_t axis = resolve_axis(ctx, "attribute 'axis'", ctx.attr<std::int64_t>("axis"), shape.rank());
  return shape[axis];
}

void infer_requantize_add(InferenceContext& ctx) {
  for (std::size_t i = 0; i < 2; ++i)
    ctx.require(ctx.dtype(i) == DataType::Int8 || ctx.dtype(i) == DataType::UInt8,
                [&] { return describe_input(ctx, i) + " must be int8 or uint8"; });
  // The operands of a residual Add have one shape (no broadcasting); a dynamic dimension
  // of one takes the other's.
  const Shape& a = ctx.shape(0);
  const Shape& b = ctx.shape(1);
  bool same = a.rank() == b.rank();
  Shape y = a;
  for (std::size_t d = 0; same && d < a.rank(); ++d) {
    same = a[d] == b[d] || a[d] == Shape::dynamic || b[d] == Shape::dynamic;
    if (a[d] == Shape::dynamic) y[d] = b[d];
  }
  ctx.require(same, [&] {
    return describe_input(ctx, 0) + " and " + describe_input(ctx, 1) + " must have the same shape, not " +
           a.to_string() + " and " + b.to_string();
  });
  const auto terms = {std::pair{"a_scale", ctx.attr<std::vector<double>>("a_scale")},
                      std::pair{"b_scale", ctx.attr<std::vector<double>>("b_scale")}};
  for (const auto& [key, scale] : terms) {
    const std::int64_t channels = channels_along(ctx, y, scale);
    ctx.require(!scale.empty() && (scale.size() == 1 || channels == Shape::dynamic ||
                                   static_cast<std::int64_t>(scale.size()) == channels),
                [&] {
                  return std::string("attribute '") + key + "' has " + std::to_string(scale.size()) +
                         " values; expected 1 or " + std::to_string(channels) + " (along attribute 'axis')";
                });
  }
  const RequantizeParams params{ctx.attr<std::vector<double>>("scale"), ctx.attr<std::int64_t>("lo"),
                                ctx.attr<std::int64_t>("hi"), ctx.attr<std::string>("to")};
  ctx.require(params.to == "int8" || params.to == "uint8",
              [&] { return "attribute 'to' is '" + params.to + "'; the sum requantizes to int8 or uint8"; });
  ctx.set_output(0, check_requantize(ctx, params, "", channels_along(ctx, y, params.scale), "along attribute 'axis'"),
                 y);
}

} // namespace

std::vector<OpSchema> requantize_schemas() {
  return {
      {"Requantize",
       1,
       1,
       1,
       1,
       {required_attr("scale", AttributeType::Floats), int_attr("axis", 1), required_attr("lo", AttributeType::Int),
        required_attr("hi", AttributeType::Int), required_attr("to", AttributeType::String)},
       infer_requantize},
      // A and B (int8/uint8, one shape); each term's scale and the sum's requantization
      // per tensor (one value) or per channel along the one shared axis.
      {"RequantizeAdd",
       2,
       2,
       1,
       1,
       {required_attr("a_scale", AttributeType::Floats), required_attr("b_scale", AttributeType::Floats),
        int_attr("axis", 1), required_attr("scale", AttributeType::Floats), required_attr("lo", AttributeType::Int),
        required_attr("hi", AttributeType::Int), required_attr("to", AttributeType::String)},
       infer_requantize_add},
  };
}

} // namespace tern::detail
