#include "integer_affine.hpp"

#include <tern/schema_helpers.hpp>

namespace tern::detail {
namespace {

constexpr const char* fused_keys[] = {"requantize_scale", "requantize_lo", "requantize_hi", "requantize_to"};

bool has_fused_requantize(const InferenceContext& ctx) {
  for (const char* key : fused_keys)
    if (ctx.has_attr(key)) return true;
  return false;
}

} // namespace

DataType check_requantize(const InferenceContext& ctx, const RequantizeParams& params, const std::string& prefix,
                          std::int64_t channels, const std::string& axis_text) {
  const std::optional<DataType> to = parse_data_type(params.to);
  ctx.require(to == DataType::Int8 || to == DataType::UInt8 || to == DataType::Int32,
              [&] { return "attribute '" + prefix + "to' is '" + params.to + "'; expected int8, uint8 or int32"; });
  ctx.require(params.lo <= params.hi, [&] {
    return "attribute '" + prefix + "lo' (" + std::to_string(params.lo) + ") is above '" + prefix + "hi' (" +
           std::to_string(params.hi) + ")";
  });
  const DataTypeInfo& range = info(*to);
  ctx.require(static_cast<double>(params.lo) >= range.lowest && static_cast<double>(params.hi) <= range.highest, [&] {
    return "[" + prefix + "lo, " + prefix + "hi] = [" + std::to_string(params.lo) + ", " + std::to_string(params.hi) +
           "] does not fit " + params.to;
  });
  const auto count = static_cast<std::int64_t>(params.scale.size());
  ctx.require(count >= 1, [&] { return "attribute '" + prefix + "scale' is empty"; });
  ctx.require(count == 1 || channels == Shape::dynamic || count == channels, [&] {
    return "attribute '" + prefix + "scale' has " + std::to_string(count) + " values; expected 1 or " +
           std::to_string(channels) + " (" + axis_text + ")";
  });
  return *to;
}

std::vector<AttributeSpec> with_fused_requantize(std::vector<AttributeSpec> attributes) {
  attributes.push_back(optional_attr("requantize_scale", AttributeType::Floats));
  attributes.push_back(optional_attr("requantize_lo", AttributeType::Int));
  attributes.push_back(optional_attr("requantize_hi", AttributeType::Int));
  attributes.push_back(optional_attr("requantize_to", AttributeType::String));
  return attributes;
}

bool integer_affine(const InferenceContext& ctx, std::size_t bias) {
  const DataType x = ctx.dtype(0);
  if (x != DataType::Int8 && x != DataType::UInt8) return false;
  ctx.require(ctx.dtype(1) == DataType::Int8, [&] {
    return describe_input(ctx, 1) + " must be int8 when " + describe_input(ctx, 0) + " is " + std::string(name(x));
  });
  if (ctx.has_input(bias))
    ctx.require(ctx.dtype(bias) == DataType::Int32, [&] {
      return describe_input(ctx, bias) + " must be int32 (the bias in accumulator units) for integer inputs";
    });
  // A float activation has no integer meaning; the PTQ pass expresses Relu through lo.
  ctx.require(!ctx.has_attr("activation") || ctx.attr<std::string>("activation").empty(),
              "attribute 'activation' is set, but integer inputs take no fused activation (use requantize_lo)");
  return true;
}

DataType affine_output_dtype(const InferenceContext& ctx, bool integer, std::int64_t channels,
                             const std::string& axis_text) {
  const bool fused = has_fused_requantize(ctx);
  if (!integer) {
    ctx.require(!fused, [&] {
      return "requantize_* attributes need integer inputs (int8/uint8 X, int8 W), not " + describe_input(ctx, 0);
    });
    return ctx.dtype(0);
  }
  if (!fused) return DataType::Int32;
  for (const char* key : fused_keys)
    ctx.require(ctx.has_attr(key), [&] {
      return std::string("attribute '") + key +
             "' is missing: a fused requantization needs all four requantize_* attributes";
    });
  const RequantizeParams params{ctx.attr<std::vector<double>>("requantize_scale"),
                                ctx.attr<std::int64_t>("requantize_lo"), ctx.attr<std::int64_t>("requantize_hi"),
                                ctx.attr<std::string>("requantize_to")};
  return check_requantize(ctx, params, "requantize_", channels, axis_text);
}

} // namespace tern::detail
