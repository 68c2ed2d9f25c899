// Element-wise operators: activations, numpy-broadcasting arithmetic, and the
// shape-preserving Identity, Dropout (inference only) and Cast.
#include "builtin_schemas.hpp"
#include <tern/schema_helpers.hpp>

namespace tern::detail {
namespace {

using Check = void (*)(const InferenceContext&, std::size_t);

/// One input, one output of the same dtype and shape; `check` vets the input's dtype.
OpSchema unary(std::string op_type, Check check, std::vector<AttributeSpec> attributes = {}) {
  return {std::move(op_type), 1, 1, 1, 1, std::move(attributes), [check](InferenceContext& ctx) {
            check(ctx, 0);
            ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
          }};
}

/// Add, Sub, Mul, Div: both operands of one numeric dtype, shapes broadcast both ways.
OpSchema binary(std::string op_type) {
  return {std::move(op_type), 2, 2, 1, 1, {}, [](InferenceContext& ctx) {
            require_numeric(ctx, 0);
            require_same_dtype(ctx, 0, 1);
            ctx.set_output(0, ctx.dtype(0), broadcast(ctx, 0, 1));
          }};
}

// Opset 11+ Clip: the bounds are optional single-value inputs, not attributes.
void infer_clip(InferenceContext& ctx) {
  require_numeric(ctx, 0);
  for (const std::size_t bound : {std::size_t{1}, std::size_t{2}}) {
    if (!ctx.has_input(bound)) continue;
    require_same_dtype(ctx, 0, bound);
    require_scalar(ctx, bound);
  }
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

// Tern runs Dropout as inference: the output is the input, the optional mask all true.
void infer_dropout(InferenceContext& ctx) {
  require_float(ctx, 0);
  if (ctx.has_input(1)) {
    require_float(ctx, 1);
    require_scalar(ctx, 1);
  }
  if (ctx.has_input(2)) {
    ctx.require(ctx.dtype(2) == DataType::Bool,
                [&] { return describe_input(ctx, 2) + " (training_mode) must be bool"; });
    require_scalar(ctx, 2);
    const Tensor* training = ctx.value(2);
    ctx.require(training == nullptr || training->to_int64s().at(0) == 0,
                "training_mode is true; Tern runs inference only");
  }
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
  if (ctx.output_count() > 1) ctx.set_output(1, DataType::Bool, ctx.shape(0));
}

// "to" names a Tern dtype ("int8"); the ONNX importer converts ONNX's enum to it.
void infer_cast(InferenceContext& ctx) {
  const auto to = ctx.attr<std::string>("to");
  const std::optional<DataType> type = parse_data_type(to);
  if (!type) {
    std::string known;
    for (auto t = static_cast<int>(DataType::Float32); t <= static_cast<int>(DataType::Bool); ++t)
      known += std::string(known.empty() ? "" : ", ") + std::string(name(static_cast<DataType>(t)));
    ctx.fail("attribute 'to' is '" + to + "', which is not a Tern dtype (" + known + ")");
  }
  ctx.set_output(0, *type, ctx.shape(0));
}

} // namespace

std::vector<OpSchema> elementwise_schemas() {
  return {
      unary("Relu", require_numeric),
      unary("LeakyRelu", require_float, {float_attr("alpha", 0.01)}),
      unary("Sigmoid", require_float),
      unary("Round", require_float),
      unary("Identity", [](const InferenceContext&, std::size_t) {}),
      {"Clip", 1, 3, 1, 1, {}, infer_clip},
      binary("Add"),
      binary("Sub"),
      binary("Mul"),
      binary("Div"),
      {"Dropout", 1, 3, 1, 2, {optional_attr("seed", AttributeType::Int)}, infer_dropout},
      {"Cast", 1, 1, 1, 1, {required_attr("to", AttributeType::String)}, infer_cast},
  };
}

} // namespace tern::detail
