// Operators that move data without computing on it: Flatten, Reshape, Transpose, Concat, Pad,
// Expand, Tile. They accept every dtype.
#include "builtin_schemas.hpp"
#include <tern/checked_math.hpp>
#include <tern/schema_helpers.hpp>

#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>
#include <span>

namespace tern::detail {
namespace {

using Ints = std::vector<std::int64_t>;
constexpr std::int64_t dynamic = Shape::dynamic;

void infer_flatten(InferenceContext& ctx) {
  const Shape& in = ctx.shape(0);
  const std::size_t axis = resolve_axis(ctx, "attribute 'axis'", ctx.attr<std::int64_t>("axis"), in.rank(), true);
  const std::span dims(in.dims());
  const std::string what = "flattening " + describe_input(ctx, 0) + " at axis " + std::to_string(axis);
  ctx.set_output(0, ctx.dtype(0), Shape{product(ctx, dims.first(axis), what), product(ctx, dims.subspan(axis), what)});
}

// The shape input: 0 copies the input's dimension (unless allowzero=1, where 0 means 0),
// -1 (at most once) takes what is left of the element count.
void infer_reshape(InferenceContext& ctx) {
  if (!shape_data_known(ctx, {1}, static_length(ctx, 1), ctx.dtype(0))) return;
  const Ints requested = constant_ints(ctx, 1);
  const bool allow_zero = ctx.attr<std::int64_t>("allowzero") != 0;
  const Shape& in = ctx.shape(0);
  const std::string target = "shape " + ints_text(requested);
  Ints dims(requested.size());
  std::vector<bool> copied(in.rank(), false);
  std::optional<std::size_t> inferred;
  std::int64_t explicit_count = 1; // product of the dims given as numbers
  for (std::size_t i = 0; i < requested.size(); ++i) {
    const std::int64_t v = requested[i];
    if (v == 0 && !allow_zero) {
      ctx.require(i < in.rank(), [&] {
        return target + " copies dimension " + std::to_string(i) + " (a 0) of " + describe_input(ctx, 0) +
               ", which has no such dimension";
      });
      dims[i] = in[i];
      copied[i] = true;
    } else if (v == -1) {
      ctx.require(!inferred, [&] { return target + " has more than one -1"; });
      inferred = i;
    } else {
      ctx.require(v >= 0, [&] { return target + " has " + std::to_string(v) + "; entries must be >= -1"; });
      dims[i] = v;
      explicit_count = mul_dims(ctx, explicit_count, v, "the element count of " + target);
    }
  }
  // A copied dimension appears on both sides and cancels, even when dynamic: that keeps
  // [N, C, H, W] -> [0, -1] at [N, C*H*W].
  Ints rest;
  for (std::size_t i = 0; i < in.rank(); ++i)
    if (!copied[i]) rest.push_back(in[i]);
  const std::int64_t remaining = product(ctx, rest, "the element count of " + describe_input(ctx, 0));
  const std::string mismatch = "cannot reshape " + describe_input(ctx, 0) + " to " + target;
  if (inferred) {
    ctx.require(explicit_count != 0,
                [&] { return target + " combines -1 with a 0 dimension, so the -1 is undetermined"; });
    ctx.require(remaining == dynamic || remaining % explicit_count == 0,
                [&] { return mismatch + ": the element counts do not divide"; });
    dims[*inferred] = remaining == dynamic ? dynamic : remaining / explicit_count;
  } else {
    ctx.require(remaining == dynamic || remaining == explicit_count,
                [&] { return mismatch + ": the element counts differ"; });
  }
  ctx.set_output(0, ctx.dtype(0), Shape(std::move(dims)));
}

void infer_transpose(InferenceContext& ctx) {
  const Shape& in = ctx.shape(0);
  Ints perm(in.rank());
  if (ctx.has_attr("perm")) {
    perm = ctx.attr<Ints>("perm");
  } else {
    // ONNX's default reverses the dimensions.
    std::iota(perm.rbegin(), perm.rend(), 0);
  }
  std::vector<bool> seen(in.rank(), false);
  const auto valid = [&](std::int64_t p) {
    const bool fresh = p >= 0 && p < static_cast<std::int64_t>(in.rank()) && !seen[static_cast<std::size_t>(p)];
    if (fresh) seen[static_cast<std::size_t>(p)] = true;
    return fresh;
  };
  ctx.require(perm.size() == in.rank() && std::all_of(perm.begin(), perm.end(), valid), [&] {
    return "attribute 'perm' " + ints_text(perm) + " is not a permutation of the " + std::to_string(in.rank()) +
           " axes of " + describe_input(ctx, 0);
  });
  Ints dims;
  for (std::int64_t p : perm) dims.push_back(in[static_cast<std::size_t>(p)]);
  ctx.set_output(0, ctx.dtype(0), Shape(std::move(dims)));
}

void infer_concat(InferenceContext& ctx) {
  require_rank(ctx, 0, 1, SIZE_MAX);
  const std::size_t rank = ctx.shape(0).rank();
  const std::size_t axis = resolve_axis(ctx, "attribute 'axis'", ctx.attr<std::int64_t>("axis"), rank);
  Ints dims = ctx.shape(0).dims();
  for (std::size_t i = 1; i < ctx.input_count(); ++i) {
    require_same_dtype(ctx, 0, i);
    const Shape& shape = ctx.shape(i);
    ctx.require(shape.rank() == rank, [&] {
      return describe_input(ctx, i) + " has rank " + std::to_string(shape.rank()) + ", but " + describe_input(ctx, 0) +
             " has rank " + std::to_string(rank);
    });
    for (std::size_t d = 0; d < rank; ++d) {
      if (d == axis) {
        dims[d] = add_dims(ctx, dims[d], shape[d],
                           "concatenating " + describe_input(ctx, i) + " on axis " + std::to_string(axis));
        continue;
      }
      // Off the axis every input must agree; a static size tells what a dynamic one must be.
      ctx.require(dims[d] == dynamic || shape[d] == dynamic || dims[d] == shape[d], [&] {
        return describe_input(ctx, i) + " differs from the other inputs in dimension " + std::to_string(d) +
               ", which is not the concatenation axis " + std::to_string(axis);
      });
      if (dims[d] == dynamic) dims[d] = shape[d];
    }
  }
  ctx.set_output(0, ctx.dtype(0), Shape(std::move(dims)));
}

// Opset 18 Pad: pads (and axes, when given) are inputs; the shape follows from their values.
void infer_pad(InferenceContext& ctx) {
  const auto mode = ctx.attr<std::string>("mode");
  ctx.require(mode == "constant" || mode == "reflect" || mode == "edge",
              [&] { return "attribute 'mode' is '" + mode + "'; expected constant, reflect or edge"; });
  const Shape& in = ctx.shape(0);
  if (!shape_data_known(ctx, {1, 3}, in.rank(), ctx.dtype(0))) return;
  std::vector<std::size_t> axes(in.rank());
  std::iota(axes.begin(), axes.end(), std::size_t{0});
  if (ctx.has_input(3)) {
    axes.clear();
    for (std::int64_t axis : constant_ints(ctx, 3))
      axes.push_back(resolve_axis(ctx, describe_input(ctx, 3), axis, in.rank()));
  }
  const Ints pads = constant_ints(ctx, 1);
  ctx.require(pads.size() == 2 * axes.size(), [&] {
    return describe_input(ctx, 1) + " has " + std::to_string(pads.size()) + " values, expected " +
           std::to_string(2 * axes.size()) + " (a begin and an end per padded axis)";
  });
  if (ctx.has_input(2)) {
    require_same_dtype(ctx, 0, 2);
    require_scalar(ctx, 2);
  }
  Ints dims = in.dims();
  std::vector<bool> padded(in.rank(), false);
  for (std::size_t k = 0; k < axes.size(); ++k) {
    const std::size_t axis = axes[k];
    const std::int64_t begin = pads[k];
    const std::int64_t end = pads[k + axes.size()];
    const std::string where = "axis " + std::to_string(axis) + " of " + describe_input(ctx, 0);
    ctx.require(!padded[axis], [&] { return where + " is listed twice in the axes"; });
    padded[axis] = true;
    // Negative pads crop. Reflect mirrors without the edge element and, like numpy, keeps
    // mirroring when a pad exceeds the axis (ONNX's own example pads 2 on an axis of 2);
    // only an empty axis has nothing to mirror.
    ctx.require(mode == "constant" || in[axis] != 0 || (begin <= 0 && end <= 0), [&] {
      return mode + " padding of " + std::to_string(begin) + " and " + std::to_string(end) + " needs a non-empty " +
             where;
    });
    // Pads are numbers, never dynamic (a -1 crops one element): only the dimension may be.
    const auto overflow = [&] { return ctx.node().describe() + ": pads " + ints_text(pads) + " on " + where; };
    const std::int64_t total = checked_add(begin, end, overflow);
    if (in[axis] == dynamic) continue;
    dims[axis] = checked_add(in[axis], total, overflow);
    ctx.require(dims[axis] >= 0, [&] { return "pads " + ints_text(pads) + " crop " + where + " below zero elements"; });
  }
  ctx.set_output(0, ctx.dtype(0), Shape(std::move(dims)));
}

// Expand(input, shape): input and shape broadcast like numpy (a 1 in shape keeps the
// input's dimension), so the output may have more dimensions than either says alone.
void infer_expand(InferenceContext& ctx) {
  const Shape& in = ctx.shape(0);
  if (!shape_data_known(ctx, {1}, std::max(in.rank(), static_length(ctx, 1)), ctx.dtype(0))) return;
  const Ints target = constant_ints(ctx, 1);
  for (const std::int64_t d : target)
    ctx.require(d >= 0, [&] { return describe_input(ctx, 1) + " " + ints_text(target) + " has a negative dimension"; });
  ctx.set_output(0, ctx.dtype(0),
                 broadcast(ctx, in, Shape(target), describe_input(ctx, 0) + " and shape " + ints_text(target)));
}

// Tile(input, repeats): dimension d repeated repeats[d] times.
void infer_tile(InferenceContext& ctx) {
  const Shape& in = ctx.shape(0);
  if (!shape_data_known(ctx, {1}, in.rank(), ctx.dtype(0))) return;
  const Ints repeats = constant_ints(ctx, 1);
  ctx.require(repeats.size() == in.rank(), [&] {
    return describe_input(ctx, 1) + " " + ints_text(repeats) + " needs one value per axis of " + describe_input(ctx, 0);
  });
  Ints dims = in.dims();
  for (std::size_t d = 0; d < dims.size(); ++d) {
    ctx.require(repeats[d] >= 0,
                [&] { return describe_input(ctx, 1) + " " + ints_text(repeats) + " has a negative repeat"; });
    dims[d] = mul_dims(ctx, dims[d], repeats[d],
                       describe_input(ctx, 1) + " " + ints_text(repeats) + " repeating axis " + std::to_string(d) +
                           " of " + describe_input(ctx, 0));
  }
  ctx.set_output(0, ctx.dtype(0), Shape(std::move(dims)));
}

} // namespace

std::vector<OpSchema> shape_op_schemas() {
  return {
      {"Flatten", 1, 1, 1, 1, {int_attr("axis", 1)}, infer_flatten},
      {"Reshape", 2, 2, 1, 1, {int_attr("allowzero", 0)}, infer_reshape},
      {"Transpose", 1, 1, 1, 1, {optional_attr("perm", AttributeType::Ints)}, infer_transpose},
      {"Concat", 1, std::numeric_limits<int>::max(), 1, 1, {required_attr("axis", AttributeType::Int)}, infer_concat},
      {"Pad", 2, 4, 1, 1, {string_attr("mode", "constant")}, infer_pad},
      {"Expand", 2, 2, 1, 1, {}, infer_expand},
      {"Tile", 2, 2, 1, 1, {}, infer_tile},
  };
}

} // namespace tern::detail
