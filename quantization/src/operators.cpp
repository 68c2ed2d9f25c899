// The PTQ's statistics as operators of the plugin's domain "tern.ptq", so that every backend can offer them and their
// results can be compared across backends (the "cuda" plugin runs all four; "cpu" the first three):
//   PtqRange(x) -> ranges float32[C, 3] (min, max, max|x| per channel; NaN ignored),
//                  [non_finite int64[C]]; C = 1 without attribute 'axis', else x's dim there
//   PtqHistogram(x, range float64[1]) -> int64[bins]: |x| in bin min(floor(|x| * (bins / range)),
//                  bins - 1), the product in float64 exactly as the PTQ's ValueStatistics; NaN uncounted
//   PtqFakeQuantize(x) -> float32: y = clip(round_half_even(x * factor[c]), lo, hi) * scale[c]
//                  in float32, operation for operation the graph Mul -> Round -> Clip -> Mul
//   PtqClipSearch(counts float64[bins]) -> float64 scalar: the clipping threshold of mode
//                  'mse', 'aa' or 'kl' over a histogram of |x| (quantization/src/clipping)
#include "operators.hpp"

#include <tern/schema_helpers.hpp>

namespace tern::ptq {
namespace {

using namespace tern::detail; // the schema helpers

void require_float32_x(const InferenceContext& ctx) {
  ctx.require(ctx.dtype(0) == DataType::Float32, [&] { return describe_input(ctx, 0) + " must be float32"; });
}

void infer_range(InferenceContext& ctx) {
  require_float32_x(ctx);
  std::int64_t channels = 1;
  if (ctx.has_attr("axis")) {
    const std::size_t axis = resolve_axis(ctx, "attribute 'axis'", ctx.attr<std::int64_t>("axis"), ctx.shape(0).rank());
    channels = ctx.shape(0)[axis];
  }
  ctx.set_output(0, DataType::Float32, Shape{channels, 3});
  ctx.set_output(1, DataType::Int64, Shape{channels});
}

void infer_histogram(InferenceContext& ctx) {
  require_float32_x(ctx);
  ctx.require(ctx.dtype(1) == DataType::Float64, [&] { return describe_input(ctx, 1) + " must be float64"; });
  require_scalar(ctx, 1);
  const auto bins = ctx.attr<std::int64_t>("bins");
  ctx.require(bins >= 1, [&] { return "attribute 'bins' is " + std::to_string(bins) + "; it must be at least 1"; });
  ctx.set_output(0, DataType::Int64, Shape{bins});
}

void infer_fake_quantize(InferenceContext& ctx) {
  require_float32_x(ctx);
  const auto factor = ctx.attr<std::vector<double>>("factor");
  const auto scale = ctx.attr<std::vector<double>>("scale");
  ctx.require(!factor.empty() && factor.size() == scale.size(), [&] {
    return "attributes 'factor' and 'scale' must hold the same number of values (1, or one per channel), got " +
           std::to_string(factor.size()) + " and " + std::to_string(scale.size());
  });
  ctx.require(ctx.attr<double>("lo") <= ctx.attr<double>("hi"), "attribute 'lo' must not exceed 'hi'");
  if (factor.size() != 1) {
    const std::size_t axis = resolve_axis(ctx, "attribute 'axis'", ctx.attr<std::int64_t>("axis"), ctx.shape(0).rank());
    const std::int64_t channels = ctx.shape(0)[axis];
    ctx.require(channels == Shape::dynamic || channels == static_cast<std::int64_t>(factor.size()), [&] {
      return std::to_string(factor.size()) + " factors for the " + std::to_string(channels) + " channels along axis " +
             std::to_string(axis) + " of " + describe_input(ctx, 0);
    });
  }
  ctx.set_output(0, DataType::Float32, ctx.shape(0));
}

void infer_clip_search(InferenceContext& ctx) {
  ctx.require(ctx.dtype(0) == DataType::Float64 && ctx.shape(0).rank() == 1,
              [&] { return describe_input(ctx, 0) + " must be a 1-D float64 histogram"; });
  const auto mode = ctx.attr<std::string>("mode");
  ctx.require(mode == "mse" || mode == "aa" || mode == "kl",
              [&] { return "attribute 'mode' is '" + mode + "'; expected mse, aa or kl"; });
  ctx.require(ctx.attr<std::int64_t>("levels") >= 1, "attribute 'levels' must be at least 1");
  ctx.require(ctx.attr<double>("bin_width") > 0 && ctx.attr<double>("abs_max") > 0,
              "attributes 'bin_width' and 'abs_max' must be positive");
  ctx.set_output(0, DataType::Float64, Shape{});
}

} // namespace

std::vector<OpSchema> operator_schemas() {
  std::vector<OpSchema> schemas{
      {"PtqRange", 1, 1, 1, 2, {optional_attr("axis", AttributeType::Int)}, infer_range},
      {"PtqHistogram", 2, 2, 1, 1, {required_attr("bins", AttributeType::Int)}, infer_histogram},
      {"PtqFakeQuantize",
       1,
       1,
       1,
       1,
       {required_attr("factor", AttributeType::Floats), required_attr("scale", AttributeType::Floats),
        int_attr("axis", 1), required_attr("lo", AttributeType::Float), required_attr("hi", AttributeType::Float)},
       infer_fake_quantize},
      {"PtqClipSearch",
       1,
       1,
       1,
       1,
       {required_attr("mode", AttributeType::String), required_attr("levels", AttributeType::Int),
        required_attr("bin_width", AttributeType::Float), required_attr("abs_max", AttributeType::Float)},
       infer_clip_search},
  };
  for (OpSchema& schema : schemas) schema.domain = "tern.ptq";
  return schemas;
}

} // namespace tern::ptq
