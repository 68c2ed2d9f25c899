// Reductions over axes: ReduceSum (opset 13: axes is an optional input, with
// noop_with_empty_axes), ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
// ReduceSumSquare, ReduceLogSum, ReduceLogSumExp (opset 13: axes is an attribute), and the
// index reductions ArgMax, ArgMin over one axis. They share one shape rule.
#include "builtin_schemas.hpp"
#include <tern/schema_helpers.hpp>

#include <algorithm>

namespace tern::detail {
namespace {

using Ints = std::vector<std::int64_t>;

/// Attribute `key` as a flag; ONNX allows only 0 and 1.
bool flag(const InferenceContext& ctx, const std::string& key) {
  const auto value = ctx.attr<std::int64_t>(key);
  ctx.require(value == 0 || value == 1,
              [&] { return "attribute '" + key + "' is " + std::to_string(value) + ", expected 0 or 1"; });
  return value == 1;
}

/// Input 0's shape with the `reduced` axes set to 1 (keepdims) or removed.
Shape reduced_shape(const InferenceContext& ctx, const std::vector<bool>& reduced, bool keepdims) {
  Ints dims;
  for (std::size_t a = 0; a < reduced.size(); ++a)
    if (!reduced[a])
      dims.push_back(ctx.shape(0)[a]);
    else if (keepdims)
      dims.push_back(1);
  return Shape(std::move(dims));
}

// No axes (or an empty list) reduces over every axis, as in ONNX opset 13, except that
// ReduceSum's noop_with_empty_axes=1 makes it reduce none (the output is the input).
void infer_reduce(InferenceContext& ctx, bool axes_input) {
  require_numeric(ctx, 0);
  const Shape& in = ctx.shape(0);
  const bool keepdims = flag(ctx, "keepdims");
  const bool noop = axes_input && flag(ctx, "noop_with_empty_axes");
  Ints axes;
  std::string source = "attribute 'axes'";
  if (axes_input && ctx.has_input(1)) {
    // Axes known only when running still fix the output rank, from their count.
    const std::size_t count = static_length(ctx, 1);
    const std::size_t kept = count == 0 ? (noop ? in.rank() : 0) : in.rank() - std::min(count, in.rank());
    if (!shape_data_known(ctx, {1}, keepdims ? in.rank() : kept, ctx.dtype(0))) return;
    axes = constant_ints(ctx, 1);
    source = describe_input(ctx, 1);
  } else if (!axes_input && ctx.has_attr("axes")) {
    axes = ctx.attr<Ints>("axes");
  }
  std::vector<bool> reduced(in.rank(), axes.empty() && !noop);
  for (const std::size_t a : resolve_axes(ctx, source, axes, in.rank())) reduced[a] = true;
  ctx.set_output(0, ctx.dtype(0), reduced_shape(ctx, reduced, keepdims));
}

OpSchema reduction(std::string op_type) {
  return {std::move(op_type),
          1,
          1,
          1,
          1,
          {optional_attr("axes", AttributeType::Ints), int_attr("keepdims", 1)},
          [](InferenceContext& ctx) { infer_reduce(ctx, false); }};
}

// ArgMax, ArgMin: int64 indices along one axis (ties: the first, or the last with
// select_last_index=1, which only the kernel needs).
void infer_arg_extreme(InferenceContext& ctx) {
  require_numeric(ctx, 0);
  require_rank(ctx, 0, 1, SIZE_MAX);
  const std::size_t axis = resolve_axis(ctx, "attribute 'axis'", ctx.attr<std::int64_t>("axis"), ctx.shape(0).rank());
  flag(ctx, "select_last_index");
  std::vector<bool> reduced(ctx.shape(0).rank(), false);
  reduced[axis] = true;
  ctx.set_output(0, DataType::Int64, reduced_shape(ctx, reduced, flag(ctx, "keepdims")));
}

OpSchema arg_extreme(std::string op_type) {
  return {
      std::move(op_type), 1, 1, 1, 1, {int_attr("axis", 0), int_attr("keepdims", 1), int_attr("select_last_index", 0)},
      infer_arg_extreme};
}

} // namespace

std::vector<OpSchema> reduce_schemas() {
  return {
      {"ReduceSum",
       1,
       2,
       1,
       1,
       {int_attr("keepdims", 1), int_attr("noop_with_empty_axes", 0)},
       [](InferenceContext& ctx) { infer_reduce(ctx, true); }},
      reduction("ReduceMean"),
      reduction("ReduceMax"),
      reduction("ReduceMin"),
      reduction("ReduceProd"),
      reduction("ReduceL1"),
      reduction("ReduceL2"),
      reduction("ReduceSumSquare"),
      reduction("ReduceLogSum"),
      reduction("ReduceLogSumExp"),
      arg_extreme("ArgMax"),
      arg_extreme("ArgMin"),
  };
}

} // namespace tern::detail
