// Requantize: an int32 accumulation (or float32, int8, uint8 tensor) scaled back to 8 bits,
// y = clamp(nearbyint_half_even(float32(x) * float32(scale[c])), lo, hi); see
// integer_affine.hpp for why the product is one float32 multiplication.
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
  };
}

} // namespace tern::detail
