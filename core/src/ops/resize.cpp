// Resize (opset 11+ form): X, optional roi, optional scales (float), optional sizes
// (int64). Tern supports the nearest and linear modes; the attributes that only change
// how output pixels map back to input coordinates are checked here for kernels to read.
#include "builtin_schemas.hpp"
#include <tern/schema_helpers.hpp>

#include <algorithm>
#include <cmath>

namespace tern::detail {
namespace {

using Ints = std::vector<std::int64_t>;
using Names = std::vector<std::string>;
constexpr std::int64_t dynamic = Shape::dynamic;
constexpr std::size_t scales_input = 2;
constexpr std::size_t sizes_input = 3;

/// Fails unless string attribute `key` is one of `allowed`; `why` adds context.
void require_one_of(const InferenceContext& ctx, const std::string& key, const Names& allowed, const std::string& why) {
  const auto value = ctx.attr<std::string>(key);
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
  std::string list;
  for (const std::string& name : allowed) list += (list.empty() ? "" : ", ") + name;
  ctx.fail("attribute '" + key + "' is '" + value + "'; " + why + list);
}

/// Opset 11-12 exporters pass an empty scales (or roi) tensor when they mean "absent".
bool given(const InferenceContext& ctx, std::size_t i) {
  return ctx.has_input(i) && !(ctx.shape(i).rank() == 1 && ctx.shape(i)[0] == 0);
}

/// floor(dim * scale) per axis, in double as the ONNX reference implementation does.
Ints scaled_dims(const InferenceContext& ctx, const Shape& in) {
  ctx.require(ctx.dtype(scales_input) == DataType::Float32,
              [&] { return describe_input(ctx, scales_input) + " must be float32"; });
  const Tensor* data = ctx.value(scales_input);
  ctx.require(data != nullptr, [&] {
    return describe_input(ctx, scales_input) +
           " must be constant data so that Resize's output shape is known before running";
  });
  const std::vector<double> scales = data->to_doubles();
  Ints dims;
  for (std::size_t a = 0; a < in.rank(); ++a) {
    ctx.require(scales[a] > 0, [&] {
      return describe_input(ctx, scales_input) + " holds scale " + std::to_string(scales[a]) + " for axis " +
             std::to_string(a) + "; scales must be > 0";
    });
    if (in[a] == dynamic) {
      dims.push_back(dynamic);
      continue;
    }
    const double size = std::floor(static_cast<double>(in[a]) * scales[a]);
    // Also catches an infinite scale (and 0 x infinity): converting those to int64 is undefined.
    ctx.require(size >= 0 && size < 0x1p63, [&] {
      return describe_input(ctx, scales_input) + " scales axis " + std::to_string(a) + " of size " +
             std::to_string(in[a]) + " by " + std::to_string(scales[a]) + ", a size int64 cannot hold";
    });
    dims.push_back(static_cast<std::int64_t>(size));
  }
  return dims;
}

void infer_resize(InferenceContext& ctx) {
  require_one_of(ctx, "mode", {"nearest", "linear"}, "Tern supports ");
  require_one_of(ctx, "coordinate_transformation_mode",
                 {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "tf_half_pixel_for_nn"},
                 "Tern supports ");
  require_one_of(ctx, "nearest_mode", {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}, "expected ");
  const auto exclude_outside = ctx.attr<std::int64_t>("exclude_outside");
  ctx.require(exclude_outside == 0 || exclude_outside == 1, [&] {
    return "attribute 'exclude_outside' is " + std::to_string(exclude_outside) + ", expected 0 or 1";
  });
  require_numeric(ctx, 0);

  const bool has_scales = given(ctx, scales_input);
  const bool has_sizes = given(ctx, sizes_input);
  ctx.require(has_scales != has_sizes, [&] {
    return std::string("exactly one of scales (input 2) and sizes (input 3) must be given; ") +
           (has_scales ? "both are" : "neither is");
  });
  const Shape& in = ctx.shape(0);
  const std::size_t target = has_scales ? scales_input : sizes_input;
  require_rank(ctx, target, 1, 1);
  ctx.require(ctx.shape(target)[0] == dynamic || ctx.shape(target)[0] == static_cast<std::int64_t>(in.rank()), [&] {
    return describe_input(ctx, target) + " must hold one value per axis of " + describe_input(ctx, 0);
  });
  if (!shape_data_known(ctx, {target}, in.rank(), ctx.dtype(0))) return;
  if (has_scales) {
    ctx.set_output(0, ctx.dtype(0), Shape(scaled_dims(ctx, in)));
    return;
  }
  ctx.require(ctx.dtype(sizes_input) == DataType::Int64,
              [&] { return describe_input(ctx, sizes_input) + " must be int64"; });
  const Ints sizes = constant_ints(ctx, sizes_input);
  ctx.require(std::all_of(sizes.begin(), sizes.end(), [](std::int64_t s) { return s >= 0; }),
              [&] { return describe_input(ctx, sizes_input) + " " + ints_text(sizes) + " must not be negative"; });
  ctx.set_output(0, ctx.dtype(0), Shape(sizes));
}

} // namespace

std::vector<OpSchema> resize_schemas() {
  return {
      {"Resize",
       1,
       4,
       1,
       1,
       {string_attr("coordinate_transformation_mode", "half_pixel"), float_attr("cubic_coeff_a", -0.75),
        int_attr("exclude_outside", 0), float_attr("extrapolation_value", 0.0), string_attr("mode", "nearest"),
        string_attr("nearest_mode", "round_prefer_floor")},
       infer_resize},
  };
}

} // namespace tern::detail
