// Normalisations: BatchNormalization (inference form), LayerNormalization, and over one axis
// (opset 13: the axis alone, not everything from it on) Softmax, LogSoftmax and Hardmax.
#include "builtin_schemas.hpp"
#include <tern/schema_helpers.hpp>

#include <algorithm>

namespace tern::detail {
namespace {

// Y = scale * (X - mean) / sqrt(var + epsilon) + B, per channel (axis 1). Only the
// inference form: training_mode=1 would also update and output the running statistics.
void infer_batch_normalization(InferenceContext& ctx) {
  const auto training = ctx.attr<std::int64_t>("training_mode");
  ctx.require(training == 0, [&] {
    return "attribute 'training_mode' is " + std::to_string(training) + "; Tern runs inference only (training_mode=0)";
  });
  require_float(ctx, 0);
  require_rank(ctx, 0, 2, SIZE_MAX);
  const std::int64_t channels = ctx.shape(0)[1];
  // scale, B, input_mean, input_var: one value per channel each.
  for (std::size_t i = 1; i <= 4; ++i) {
    require_same_dtype(ctx, 0, i);
    require_rank(ctx, i, 1, 1);
    const std::int64_t length = ctx.shape(i)[0];
    ctx.require(length == Shape::dynamic || channels == Shape::dynamic || length == channels, [&] {
      return describe_input(ctx, i) + " must hold one value per channel of " + describe_input(ctx, 0);
    });
  }
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

// LayerNormalization (opset 17): Y = (X - mean) / sqrt(var + epsilon) * Scale + B, the
// statistics over the axes from `axis` on (ConvNeXt's and transformers' LayerNorm, as
// PyTorch exports it at opset 17). Scale and B broadcast to those axes; the optional outputs
// Mean and InvStdDev keep X's leading dims, 1 for the normalised ones, in float32
// (stash_type 1, the only type ONNX defines for them).
void infer_layer_normalization(InferenceContext& ctx) {
  require_float(ctx, 0);
  require_rank(ctx, 0, 1, SIZE_MAX);
  const Shape& x = ctx.shape(0);
  const std::size_t axis = resolve_axis(ctx, "attribute 'axis'", ctx.attr<std::int64_t>("axis"), x.rank());
  const auto stash = ctx.attr<std::int64_t>("stash_type");
  ctx.require(stash == 1, [&] {
    return "attribute 'stash_type' is " + std::to_string(stash) + "; Tern computes the statistics in float32 (1)";
  });
  const Shape normalised(
      std::vector<std::int64_t>(x.dims().begin() + static_cast<std::ptrdiff_t>(axis), x.dims().end()));
  for (std::size_t i = 1; i <= 2; ++i) {
    if (!ctx.has_input(i)) continue;
    require_same_dtype(ctx, 0, i);
    ctx.require(broadcasts_to(ctx.shape(i), normalised), [&] {
      return describe_input(ctx, i) + " must broadcast to the normalised axes " + normalised.to_string();
    });
  }
  ctx.set_output(0, ctx.dtype(0), x);
  std::vector<std::int64_t> statistics = x.dims();
  std::fill(statistics.begin() + static_cast<std::ptrdiff_t>(axis), statistics.end(), 1);
  for (std::size_t i = 1; i < ctx.output_count(); ++i) ctx.set_output(i, DataType::Float32, Shape(statistics));
}

void infer_softmax(InferenceContext& ctx) {
  require_float(ctx, 0);
  // Checked only: the axis matters to kernels, not to the shape.
  resolve_axis(ctx, "attribute 'axis'", ctx.attr<std::int64_t>("axis"), ctx.shape(0).rank());
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

} // namespace

std::vector<OpSchema> normalization_schemas() {
  return {
      {"BatchNormalization",
       5,
       5,
       1,
       1,
       {float_attr("epsilon", 1e-5), float_attr("momentum", 0.9), int_attr("training_mode", 0)},
       infer_batch_normalization},
      {"LayerNormalization",
       2,
       3,
       1,
       3,
       {int_attr("axis", -1), float_attr("epsilon", 1e-5), int_attr("stash_type", 1)},
       infer_layer_normalization},
      {"Softmax", 1, 1, 1, 1, {int_attr("axis", -1)}, infer_softmax},
      {"LogSoftmax", 1, 1, 1, 1, {int_attr("axis", -1)}, infer_softmax},
      // 1 at the first maximum along the axis, 0 elsewhere
      {"Hardmax", 1, 1, 1, 1, {int_attr("axis", -1)}, infer_softmax},
  };
}

} // namespace tern::detail
