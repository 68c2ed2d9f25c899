#include "shape_helpers.hpp"

#include <algorithm>

namespace tern::detail {
namespace {

constexpr std::int64_t dynamic = Shape::dynamic;

/// Attribute `key` (one value per spatial axis, or two for pads), or `count` copies of `fill`.
std::vector<std::int64_t> per_axis(const InferenceContext& ctx, const std::string& key, std::size_t count,
                                   std::int64_t fill) {
  if (!ctx.has_attr(key)) return std::vector<std::int64_t>(count, fill);
  auto values = ctx.attr<std::vector<std::int64_t>>(key);
  ctx.require(values.size() == count, "attribute '" + key + "' " + ints_text(values) + " has " +
                                          std::to_string(values.size()) + " values, expected " +
                                          std::to_string(count) + " for the input's spatial axes");
  return values;
}

void require_all_at_least(const InferenceContext& ctx, const std::string& key, const std::vector<std::int64_t>& values,
                          std::int64_t low) {
  ctx.require(std::all_of(values.begin(), values.end(), [low](std::int64_t v) { return v == dynamic || v >= low; }),
              key + " " + ints_text(values) + " must all be >= " + std::to_string(low));
}

/// The output size along spatial axis `axis` for an input of size `in` there.
std::int64_t window_dim(const InferenceContext& ctx, const Window& w, std::size_t axis, std::int64_t in) {
  const std::size_t spatial = w.kernel.size();
  if (in == dynamic || w.kernel[axis] == dynamic) return dynamic;
  const std::int64_t stride = w.strides[axis];
  // SAME_*: ONNX pads so that the output is ceil(in / stride), whatever the kernel.
  if (w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER") return (in + stride - 1) / stride;
  const bool valid = w.auto_pad == "VALID";
  const std::int64_t begin = valid ? 0 : w.pads[axis];
  const std::int64_t end = valid ? 0 : w.pads[axis + spatial];
  const std::int64_t extent = w.dilations[axis] * (w.kernel[axis] - 1) + 1;
  const std::int64_t room = in + begin + end - extent;
  ctx.require(room >= 0, "spatial axis " + std::to_string(axis) + ": the kernel spans " + std::to_string(extent) +
                             " (kernel_shape " + ints_text(w.kernel) + ", dilations " + ints_text(w.dilations) +
                             ") but the padded input has only " + std::to_string(in + begin + end));
  std::int64_t out = (w.ceil_mode ? room + stride - 1 : room) / stride + 1;
  // ceil_mode: a last window that would start inside the end padding is dropped (PyTorch,
  // ONNX MaxPool-22), so every window sees at least one real element.
  if (w.ceil_mode && (out - 1) * stride >= in + begin) --out;
  return out;
}

} // namespace

std::string ints_text(const std::vector<std::int64_t>& values) { return to_string(Attribute{values}); }

std::string describe_input(const InferenceContext& ctx, std::size_t i) {
  const Value* value = ctx.node().input(i);
  const std::string facts = std::string(name(ctx.dtype(i))) + ctx.shape(i).to_string();
  return "input " + std::to_string(i) + " (" + (value ? "'" + value->name() + "', " : "") + facts + ")";
}

void require_float(const InferenceContext& ctx, std::size_t i) {
  const DataType type = ctx.dtype(i);
  ctx.require(type == DataType::Float32 || type == DataType::Float64,
              describe_input(ctx, i) + " must be float32 or float64: " + ctx.node().op_type() +
                  " is defined on floating-point tensors only");
}

void require_numeric(const InferenceContext& ctx, std::size_t i) {
  ctx.require(ctx.dtype(i) != DataType::Bool,
              describe_input(ctx, i) + " must be numeric: " + ctx.node().op_type() + " is not defined on bool");
}

void require_same_dtype(const InferenceContext& ctx, std::size_t reference, std::size_t other) {
  ctx.require(ctx.dtype(reference) == ctx.dtype(other), describe_input(ctx, other) + " must have the dtype of " +
                                                            describe_input(ctx, reference));
}

void require_rank(const InferenceContext& ctx, std::size_t i, std::size_t low, std::size_t high) {
  const std::size_t rank = ctx.shape(i).rank();
  const std::string expected = low == high ? std::to_string(low)
                                           : std::to_string(low) + (high == SIZE_MAX ? " or more" : " to " + std::to_string(high));
  ctx.require(rank >= low && rank <= high,
              describe_input(ctx, i) + " has rank " + std::to_string(rank) + ", expected rank " + expected);
}

void require_scalar(const InferenceContext& ctx, std::size_t i) {
  const Shape& shape = ctx.shape(i);
  ctx.require(std::all_of(shape.begin(), shape.end(), [](std::int64_t d) { return d == 1 || d == dynamic; }),
              describe_input(ctx, i) + " must hold a single value");
}

std::vector<std::int64_t> constant_ints(const InferenceContext& ctx, std::size_t i) {
  const Tensor* data = ctx.value(i);
  ctx.require(data != nullptr, describe_input(ctx, i) + " must be constant data (an initializer) so that " +
                                   ctx.node().op_type() + "'s output shape is known before running");
  ctx.require(data->dtype() == DataType::Int64 || data->dtype() == DataType::Int32,
              describe_input(ctx, i) + " must be int64 (or int32)");
  require_rank(ctx, i, 1, 1);
  return data->to_int64s();
}

std::int64_t add_dims(std::int64_t a, std::int64_t b) { return a == dynamic || b == dynamic ? dynamic : a + b; }

std::int64_t product(std::span<const std::int64_t> dims) {
  std::int64_t result = 1;
  for (std::int64_t d : dims) {
    if (d == dynamic) return dynamic;
    result *= d;
  }
  return result;
}

std::size_t resolve_axis(const InferenceContext& ctx, const std::string& what, std::int64_t axis, std::size_t rank,
                         bool inclusive_end) {
  const auto r = static_cast<std::int64_t>(rank);
  const std::int64_t high = inclusive_end ? r : r - 1;
  ctx.require(axis >= -r && axis <= high, what + " is " + std::to_string(axis) +
                                              ", out of range [" + std::to_string(-r) + ", " + std::to_string(high) +
                                              "] for rank " + std::to_string(rank));
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

Shape broadcast(const InferenceContext& ctx, std::size_t a, std::size_t b) {
  return broadcast(ctx, ctx.shape(a), ctx.shape(b), describe_input(ctx, a) + " and " + describe_input(ctx, b));
}

Shape broadcast(const InferenceContext& ctx, const Shape& a, const Shape& b, const std::string& what) {
  const std::size_t rank = std::max(a.rank(), b.rank());
  std::vector<std::int64_t> dims(rank);
  // Align from the right; a missing leading dimension acts as 1.
  for (std::size_t k = 1; k <= rank; ++k) {
    const std::int64_t x = k <= a.rank() ? a[a.rank() - k] : 1;
    const std::int64_t y = k <= b.rank() ? b[b.rank() - k] : 1;
    std::int64_t& out = dims[rank - k];
    if (x == y || y == 1) out = x;
    else if (x == 1) out = y;
    else if (x == dynamic || y == dynamic) out = x == dynamic ? y : x;
    else ctx.fail("cannot broadcast " + what + ": dimension " + std::to_string(x) + " vs " + std::to_string(y) +
                  " (axis " + std::to_string(k) + " from the right)");
  }
  return Shape(std::move(dims));
}

bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.rank() > to.rank()) return false;
  const std::size_t offset = to.rank() - from.rank();
  for (std::size_t i = 0; i < from.rank(); ++i) {
    const std::int64_t f = from[i];
    const std::int64_t t = to[offset + i];
    if (f != 1 && f != t && f != dynamic && t != dynamic) return false;
  }
  return true;
}

Window read_window(const InferenceContext& ctx, std::vector<std::int64_t> kernel, bool ceil_mode) {
  const std::size_t spatial = kernel.size();
  Window w{std::move(kernel),
           per_axis(ctx, "strides", spatial, 1),
           per_axis(ctx, "dilations", spatial, 1),
           per_axis(ctx, "pads", 2 * spatial, 0),
           ctx.attr<std::string>("auto_pad"),
           ceil_mode};
  require_all_at_least(ctx, "kernel_shape", w.kernel, 1);
  require_all_at_least(ctx, "strides", w.strides, 1);
  require_all_at_least(ctx, "dilations", w.dilations, 1);
  require_all_at_least(ctx, "pads", w.pads, 0);
  ctx.require(w.auto_pad == "NOTSET" || w.auto_pad == "VALID" || w.auto_pad == "SAME_UPPER" ||
                  w.auto_pad == "SAME_LOWER",
              "attribute 'auto_pad' is '" + w.auto_pad + "'; expected NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  ctx.require(w.auto_pad == "NOTSET" || !ctx.has_attr("pads"),
              "attributes 'pads' and 'auto_pad' (" + w.auto_pad + ") cannot both be set");
  return w;
}

Shape window_output(const InferenceContext& ctx, const Window& window, std::int64_t channels) {
  const Shape& x = ctx.shape(0);
  std::vector<std::int64_t> dims{x[0], channels};
  for (std::size_t axis = 0; axis < window.kernel.size(); ++axis) dims.push_back(window_dim(ctx, window, axis, x[axis + 2]));
  return Shape(std::move(dims));
}

} // namespace tern::detail
