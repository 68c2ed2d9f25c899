// Operators about data rather than arithmetic: Constant (a tensor attribute), Shape and Size
// (the input's dimensions or element count as int64 data), Gather (picking slices by index),
// ConstantOfShape (a value repeated to a shape given as data) and Range (an arithmetic
// sequence).
#include "builtin_schemas.hpp"
#include <tern/schema_helpers.hpp>
#include <tern/shape_range.hpp>

#include <algorithm>
#include <cmath>

namespace tern::detail {
namespace {

using Ints = std::vector<std::int64_t>;
constexpr std::int64_t dynamic = Shape::dynamic;

// The ONNX importer turns value_float, value_ints, ... into the one "value" tensor.
void infer_constant(InferenceContext& ctx) {
  const auto value = ctx.attr<Tensor>("value");
  ctx.require(value.defined(), "attribute 'value' holds no tensor data");
  ctx.set_output(0, value.dtype(), value.shape());
}

// Opset 15: start and end select dimensions [start, end) like a Python slice (shape_range.hpp).
void infer_shape(InferenceContext& ctx) {
  const auto [begin, end] = shape_range(ctx.node(), static_cast<std::int64_t>(ctx.shape(0).rank()));
  ctx.set_output(0, DataType::Int64, Shape{end - begin});
}

// Output: data.shape[:axis] + indices.shape + data.shape[axis+1:]. Constant indices are
// checked against the gathered dimension; ONNX allows negative ones (from the end).
void infer_gather(InferenceContext& ctx) {
  const DataType index_type = ctx.dtype(1);
  ctx.require(index_type == DataType::Int64 || index_type == DataType::Int32,
              [&] { return describe_input(ctx, 1) + " must be int64 or int32 indices"; });
  const Shape& data = ctx.shape(0);
  require_rank(ctx, 0, 1, SIZE_MAX);
  const std::size_t axis = resolve_axis(ctx, "attribute 'axis'", ctx.attr<std::int64_t>("axis"), data.rank());
  const std::int64_t size = data[axis];
  if (const Tensor* indices = ctx.value(1); indices != nullptr && size != dynamic) {
    for (const std::int64_t index : indices->to_int64s())
      ctx.require(index >= -size && index < size, [&] {
        return describe_input(ctx, 1) + " holds index " + std::to_string(index) + ", out of range [" +
               std::to_string(-size) + ", " + std::to_string(size - 1) + "] for axis " + std::to_string(axis) + " of " +
               describe_input(ctx, 0);
      });
  }
  Ints dims(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(axis));
  dims.insert(dims.end(), ctx.shape(1).begin(), ctx.shape(1).end());
  dims.insert(dims.end(), data.begin() + static_cast<std::ptrdiff_t>(axis) + 1, data.end());
  ctx.set_output(0, ctx.dtype(0), Shape(std::move(dims)));
}

// The value's dtype, float32 without the attribute (ONNX's default is a float 0).
void infer_constant_of_shape(InferenceContext& ctx) {
  DataType type = DataType::Float32;
  if (ctx.has_attr("value")) {
    const auto value = ctx.attr<Tensor>("value");
    ctx.require(value.defined() && value.numel() == 1, "attribute 'value' must hold exactly one element");
    type = value.dtype();
  }
  ctx.require(ctx.dtype(0) == DataType::Int64, [&] { return describe_input(ctx, 0) + " must be int64"; });
  if (!shape_data_known(ctx, {0}, static_length(ctx, 0), type)) return;
  const Ints dims = constant_ints(ctx, 0);
  for (const std::int64_t d : dims)
    ctx.require(d >= 0, [&] { return describe_input(ctx, 0) + " " + ints_text(dims) + " has a negative dimension"; });
  ctx.set_output(0, type, Shape(dims));
}

// Range(start, limit, delta): max(ceil((limit - start) / delta), 0) values, so the length
// is known only with the values.
void infer_range(InferenceContext& ctx) {
  require_numeric(ctx, 0);
  for (const std::size_t i : {std::size_t{0}, std::size_t{1}, std::size_t{2}}) {
    require_same_dtype(ctx, 0, i);
    require_rank(ctx, i, 0, 0);
  }
  if (!shape_data_known(ctx, {0, 1, 2}, 1, ctx.dtype(0))) return;
  const double start = ctx.value(0)->to_doubles().at(0);
  const double limit = ctx.value(1)->to_doubles().at(0);
  const double delta = ctx.value(2)->to_doubles().at(0);
  ctx.require(delta != 0.0, [&] { return describe_input(ctx, 2) + " (delta) is 0"; });
  const double count = std::ceil((limit - start) / delta);
  // NaN (a NaN or infinite bound) and counts past int64 cannot become a length.
  ctx.require(!std::isnan(count) && count < 0x1p63, [&] {
    return "start " + std::to_string(start) + ", limit " + std::to_string(limit) + " and delta " +
           std::to_string(delta) + " give " + (std::isnan(count) ? "no number of" : std::to_string(count)) +
           " values, a length int64 cannot hold";
  });
  ctx.set_output(0, ctx.dtype(0), Shape{static_cast<std::int64_t>(std::max(count, 0.0))});
}

} // namespace

std::vector<OpSchema> data_op_schemas() {
  return {
      {"Constant", 0, 0, 1, 1, {required_attr("value", AttributeType::Tensor)}, infer_constant},
      {"Shape", 1, 1, 1, 1, {int_attr("start", 0), optional_attr("end", AttributeType::Int)}, infer_shape},
      {"Gather", 2, 2, 1, 1, {int_attr("axis", 0)}, infer_gather},
      {"Size", 1, 1, 1, 1, {}, [](InferenceContext& ctx) { ctx.set_output(0, DataType::Int64, Shape{}); }},
      {"ConstantOfShape", 1, 1, 1, 1, {optional_attr("value", AttributeType::Tensor)}, infer_constant_of_shape},
      {"Range", 3, 3, 1, 1, {}, infer_range},
  };
}

} // namespace tern::detail
