#include <tern/checked_math.hpp>
#include <tern/schema_helpers.hpp>

#include <algorithm>

namespace tern::detail {
namespace {

constexpr std::int64_t dynamic = Shape::dynamic;

} // namespace

std::string ints_text(const std::vector<std::int64_t>& values) { return to_string(Attribute{values}); }

std::string describe_input(const InferenceContext& ctx, std::size_t i) {
  const Value* value = ctx.node().input(i);
  const std::string facts = std::string(name(ctx.dtype(i))) + ctx.shape(i).to_string();
  return "input " + std::to_string(i) + " (" + (value ? "'" + value->name() + "', " : "") + facts + ")";
}

void require_float(const InferenceContext& ctx, std::size_t i) {
  const DataType type = ctx.dtype(i);
  ctx.require(type == DataType::Float32 || type == DataType::Float64, [&] {
    return describe_input(ctx, i) + " must be float32 or float64: " + ctx.node().op_type() +
           " is defined on floating-point tensors only";
  });
}

void require_numeric(const InferenceContext& ctx, std::size_t i) {
  ctx.require(ctx.dtype(i) != DataType::Bool, [&] {
    return describe_input(ctx, i) + " must be numeric: " + ctx.node().op_type() + " is not defined on bool";
  });
}

void require_same_dtype(const InferenceContext& ctx, std::size_t reference, std::size_t other) {
  ctx.require(ctx.dtype(reference) == ctx.dtype(other),
              [&] { return describe_input(ctx, other) + " must have the dtype of " + describe_input(ctx, reference); });
}

void require_rank(const InferenceContext& ctx, std::size_t i, std::size_t low, std::size_t high) {
  const std::size_t rank = ctx.shape(i).rank();
  const std::string expected =
      low == high ? std::to_string(low)
                  : std::to_string(low) + (high == SIZE_MAX ? " or more" : " to " + std::to_string(high));
  ctx.require(rank >= low && rank <= high, [&] {
    return describe_input(ctx, i) + " has rank " + std::to_string(rank) + ", expected rank " + expected;
  });
}

void require_scalar(const InferenceContext& ctx, std::size_t i) {
  const Shape& shape = ctx.shape(i);
  ctx.require(std::all_of(shape.begin(), shape.end(), [](std::int64_t d) { return d == 1 || d == dynamic; }),
              [&] { return describe_input(ctx, i) + " must hold a single value"; });
}

std::vector<std::int64_t> constant_ints(const InferenceContext& ctx, std::size_t i) {
  const Tensor* data = ctx.value(i);
  ctx.require(data != nullptr, [&] {
    return describe_input(ctx, i) + " must be constant data (an initializer) so that " + ctx.node().op_type() +
           "'s output shape is known before running";
  });
  ctx.require(data->dtype() == DataType::Int64 || data->dtype() == DataType::Int32,
              [&] { return describe_input(ctx, i) + " must be int64 (or int32)"; });
  require_rank(ctx, i, 1, 1);
  return data->to_int64s();
}

bool shape_data_known(InferenceContext& ctx, std::initializer_list<std::size_t> inputs, std::size_t rank,
                      DataType dtype) {
  for (const std::size_t i : inputs)
    if (ctx.has_input(i) && ctx.value(i) == nullptr) {
      // The rank comes from a declared length (e.g. a shape input's), not from data: a
      // hostile one must not size this vector.
      constexpr std::size_t max_rank = 4096;
      ctx.require(rank <= max_rank, [&] {
        return "output 0 would have " + std::to_string(rank) + " dimensions (from the length of " +
               describe_input(ctx, i) + "); ranks over " + std::to_string(max_rank) + " are refused";
      });
      ctx.set_output(0, dtype, Shape(std::vector<std::int64_t>(rank, dynamic)));
      return false;
    }
  return true;
}

std::size_t static_length(const InferenceContext& ctx, std::size_t i) {
  require_rank(ctx, i, 1, 1);
  ctx.require(ctx.shape(i)[0] != dynamic, [&] { return describe_input(ctx, i) + " must have a static length"; });
  return static_cast<std::size_t>(ctx.shape(i)[0]);
}

std::int64_t add_dims(const InferenceContext& ctx, std::int64_t a, std::int64_t b, const std::string& what) {
  if (a == dynamic || b == dynamic) return dynamic;
  return checked_add(a, b, [&] { return ctx.node().describe() + ": " + what; });
}

std::int64_t mul_dims(const InferenceContext& ctx, std::int64_t a, std::int64_t b, const std::string& what) {
  if (a == dynamic || b == dynamic) return dynamic;
  return checked_mul(a, b, [&] { return ctx.node().describe() + ": " + what; });
}

std::int64_t product(const InferenceContext& ctx, std::span<const std::int64_t> dims, const std::string& what) {
  if (std::find(dims.begin(), dims.end(), dynamic) != dims.end()) return dynamic;
  // A zero makes the product 0 whatever the other dimensions are.
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) return 0;
  std::int64_t result = 1;
  for (const std::int64_t d : dims) result = mul_dims(ctx, result, d, what);
  return result;
}

std::size_t resolve_axis(const InferenceContext& ctx, const std::string& what, std::int64_t axis, std::size_t rank,
                         bool inclusive_end) {
  const auto r = static_cast<std::int64_t>(rank);
  const std::int64_t high = inclusive_end ? r : r - 1;
  ctx.require(axis >= -r && axis <= high, [&] {
    return what + " is " + std::to_string(axis) + ", out of range [" + std::to_string(-r) + ", " +
           std::to_string(high) + "] for rank " + std::to_string(rank);
  });
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

std::vector<std::size_t> resolve_axes(const InferenceContext& ctx, const std::string& source,
                                      const std::vector<std::int64_t>& axes, std::size_t rank) {
  const std::string what = "an axis of " + source + " " + ints_text(axes);
  std::vector<std::size_t> resolved;
  std::vector<bool> seen(rank, false);
  for (const std::int64_t axis : axes) {
    const std::size_t a = resolve_axis(ctx, what, axis, rank);
    ctx.require(!seen[a],
                [&] { return source + " " + ints_text(axes) + " names axis " + std::to_string(a) + " twice"; });
    seen[a] = true;
    resolved.push_back(a);
  }
  return resolved;
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
    if (x == y || y == 1)
      out = x;
    else if (x == 1)
      out = y;
    else if (x == dynamic || y == dynamic)
      out = x == dynamic ? y : x;
    else
      ctx.fail("cannot broadcast " + what + ": dimension " + std::to_string(x) + " vs " + std::to_string(y) +
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

} // namespace tern::detail
