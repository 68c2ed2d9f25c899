// Operators driven by a list of axes: Squeeze, Unsqueeze (opset 13: axes is an input) and
// Slice (opset 10+: every list is an input). Axes may be negative (counted from the end) and
// must not repeat. The reductions, also driven by axes, are in reduce_ops.cpp.
#include "builtin_schemas.hpp"
#include <tern/schema_helpers.hpp>

#include <algorithm>
#include <numeric>

namespace tern::detail {
namespace {

using Ints = std::vector<std::int64_t>;
constexpr std::int64_t dynamic = Shape::dynamic;

/// The dimensions of input 0 whose flag in `dropped` is false.
Ints kept_dims(const InferenceContext& ctx, const std::vector<bool>& dropped) {
  Ints dims;
  for (std::size_t a = 0; a < dropped.size(); ++a)
    if (!dropped[a]) dims.push_back(ctx.shape(0)[a]);
  return dims;
}

// Without axes every dimension of size 1 goes, which needs every dimension known.
void infer_squeeze(InferenceContext& ctx) {
  const Shape& in = ctx.shape(0);
  std::vector<bool> squeezed(in.rank(), false);
  if (ctx.has_input(1) &&
      !shape_data_known(ctx, {1}, in.rank() - std::min(in.rank(), static_length(ctx, 1)), ctx.dtype(0)))
    return;
  if (ctx.has_input(1)) {
    for (const std::size_t a : resolve_axes(ctx, describe_input(ctx, 1), constant_ints(ctx, 1), in.rank())) {
      // A dynamic dimension is accepted: it must be 1 when running.
      ctx.require(in[a] == 1 || in[a] == dynamic, [&] {
        return "cannot squeeze axis " + std::to_string(a) + " of " + describe_input(ctx, 0) + ": its size is " +
               std::to_string(in[a]) + ", not 1";
      });
      squeezed[a] = true;
    }
  } else {
    for (std::size_t a = 0; a < in.rank(); ++a) {
      ctx.require(in[a] != dynamic, [&] {
        return "without the axes input, Squeeze removes every dimension of size 1, but dimension " + std::to_string(a) +
               " of " + describe_input(ctx, 0) + " is dynamic; give the axes as a constant input";
      });
      squeezed[a] = in[a] == 1;
    }
  }
  ctx.set_output(0, ctx.dtype(0), Shape(kept_dims(ctx, squeezed)));
}

// The axes refer to the output, whose rank is the input's plus one per axis.
void infer_unsqueeze(InferenceContext& ctx) {
  const Shape& in = ctx.shape(0);
  if (!shape_data_known(ctx, {1}, in.rank() + static_length(ctx, 1), ctx.dtype(0))) return;
  const Ints axes = constant_ints(ctx, 1);
  const std::size_t rank = in.rank() + axes.size();
  std::vector<bool> inserted(rank, false);
  for (const std::size_t a : resolve_axes(ctx, describe_input(ctx, 1), axes, rank)) inserted[a] = true;
  Ints dims;
  auto next = in.begin();
  for (std::size_t a = 0; a < rank; ++a) dims.push_back(inserted[a] ? 1 : *next++);
  ctx.set_output(0, ctx.dtype(0), Shape(std::move(dims)));
}

/// How many elements ONNX Slice takes from a dimension of `size`: negative start/end count
/// from the end, then (step > 0) both clamp to [0, size], or (step < 0) start clamps to
/// [0, size - 1] and end to [-1, size - 1], so a reversed slice can reach element 0.
std::int64_t sliced_size(std::int64_t size, std::int64_t start, std::int64_t end, std::int64_t step) {
  if (size == dynamic) return dynamic;
  if (size == 0) return 0;
  if (start < 0) start += size;
  if (end < 0) end += size;
  const bool forward = step > 0;
  start = std::clamp<std::int64_t>(start, 0, forward ? size : size - 1);
  end = std::clamp<std::int64_t>(end, forward ? 0 : -1, forward ? size : size - 1);
  const std::int64_t distance = forward ? end - start : start - end;
  // |step| >= size takes one element at most; capping it avoids negating INT64_MIN.
  const std::int64_t stride = forward ? step : (step < -size ? size : -step);
  return distance > 0 ? 1 + (distance - 1) / stride : 0;
}

void infer_slice(InferenceContext& ctx) {
  const Shape& in = ctx.shape(0);
  if (!shape_data_known(ctx, {1, 2, 3, 4}, in.rank(), ctx.dtype(0))) return;
  const Ints starts = constant_ints(ctx, 1);
  const Ints ends = constant_ints(ctx, 2);
  Ints axes(starts.size());
  std::iota(axes.begin(), axes.end(), std::int64_t{0}); // default: the leading axes
  if (ctx.has_input(3)) axes = constant_ints(ctx, 3);
  Ints steps(starts.size(), 1);
  if (ctx.has_input(4)) steps = constant_ints(ctx, 4);
  ctx.require(ends.size() == starts.size() && axes.size() == starts.size() && steps.size() == starts.size(), [&] {
    return "starts " + ints_text(starts) + ", ends " + ints_text(ends) + ", axes " + ints_text(axes) + " and steps " +
           ints_text(steps) + " must have one entry per sliced axis each";
  });
  ctx.require(std::find(steps.begin(), steps.end(), 0) == steps.end(),
              [&] { return "steps " + ints_text(steps) + " contain a 0"; });
  const std::vector<std::size_t> resolved =
      resolve_axes(ctx, ctx.has_input(3) ? describe_input(ctx, 3) : "the default axes", axes, in.rank());
  Ints dims = in.dims();
  for (std::size_t k = 0; k < resolved.size(); ++k)
    dims[resolved[k]] = sliced_size(in[resolved[k]], starts[k], ends[k], steps[k]);
  ctx.set_output(0, ctx.dtype(0), Shape(std::move(dims)));
}

} // namespace

std::vector<OpSchema> axes_op_schemas() {
  return {
      {"Squeeze", 1, 2, 1, 1, {}, infer_squeeze},
      {"Unsqueeze", 2, 2, 1, 1, {}, infer_unsqueeze},
      {"Slice", 3, 5, 1, 1, {}, infer_slice},
  };
}

} // namespace tern::detail
