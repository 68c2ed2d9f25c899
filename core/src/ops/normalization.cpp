// Normalisations: BatchNormalization (inference form), and over one axis (opset 13: the
// axis alone, not everything from it on) Softmax, LogSoftmax and Hardmax.
#include "builtin_schemas.hpp"
#include <tern/schema_helpers.hpp>

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
      {"Softmax", 1, 1, 1, 1, {int_attr("axis", -1)}, infer_softmax},
      {"LogSoftmax", 1, 1, 1, 1, {int_attr("axis", -1)}, infer_softmax},
      // 1 at the first maximum along the axis, 0 elsewhere
      {"Hardmax", 1, 1, 1, 1, {int_attr("axis", -1)}, infer_softmax},
  };
}

} // namespace tern::detail
