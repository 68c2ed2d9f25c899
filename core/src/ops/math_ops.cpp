// Element-wise math beyond elementwise.cpp: float activations and functions (HardSigmoid,
// HardSwish, Tanh, Exp, Sqrt, Log, Erf, the trigonometric and hyperbolic functions, ...),
// sign and rounding operations (Neg, Abs, Sign, Floor, Ceil), the float classifiers IsNaN
// and IsInf (bool result), Pow, Mod, and the variadic broadcasting reductions Min, Max, Sum
// and Mean.
#include "builtin_schemas.hpp"
#include <tern/schema_helpers.hpp>

#include <limits>

namespace tern::detail {
namespace {

using Check = void (*)(const InferenceContext&, std::size_t);

/// Neg is defined on signed types only: negating an unsigned value wraps.
void require_signed(const InferenceContext& ctx, std::size_t i) {
  require_numeric(ctx, i);
  ctx.require(info(ctx.dtype(i)).is_signed, [&] {
    return describe_input(ctx, i) + " must be a signed type: " + ctx.node().op_type() +
           " of an unsigned value is not defined";
  });
}

/// One input, one output of its dtype and shape; `check` vets the input's dtype.
OpSchema same_type_unary(std::string op_type, Check check, std::vector<AttributeSpec> attributes = {}) {
  return {std::move(op_type), 1, 1, 1, 1, std::move(attributes), [check](InferenceContext& ctx) {
            check(ctx, 0);
            ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
          }};
}

// Pow(X, Y): ONNX lets the exponent have another numeric dtype than the base (float base
// with int exponent, ...); the result has the base's dtype.
void infer_pow(InferenceContext& ctx) {
  require_numeric(ctx, 0);
  require_numeric(ctx, 1);
  ctx.set_output(0, ctx.dtype(0), broadcast(ctx, 0, 1));
}

/// IsNaN, IsInf: a float input, a bool output of its shape.
OpSchema float_test(std::string op_type, std::vector<AttributeSpec> attributes = {}) {
  return {std::move(op_type), 1, 1, 1, 1, std::move(attributes), [](InferenceContext& ctx) {
            require_float(ctx, 0);
            ctx.set_output(0, DataType::Bool, ctx.shape(0));
          }};
}

// Mod(A, B): one numeric dtype, broadcast both ways. fmod=0 takes the divisor's sign (Python
// %), which ONNX defines for integers only; floats need fmod=1 (C fmod, the dividend's sign).
void infer_mod(InferenceContext& ctx) {
  require_numeric(ctx, 0);
  require_same_dtype(ctx, 0, 1);
  const auto fmod = ctx.attr<std::int64_t>("fmod");
  ctx.require(fmod == 0 || fmod == 1,
              [&] { return "attribute 'fmod' is " + std::to_string(fmod) + ", expected 0 or 1"; });
  ctx.require(fmod == 1 || info(ctx.dtype(0)).is_integer, [&] {
    return "attribute 'fmod' is 0, but " + describe_input(ctx, 0) + " is floating-point, which needs fmod=1";
  });
  ctx.set_output(0, ctx.dtype(0), broadcast(ctx, 0, 1));
}

/// Min, Max, Sum, Mean: one or more inputs of one dtype, shapes broadcast all together.
OpSchema variadic(std::string op_type, Check check) {
  return {std::move(op_type), 1, std::numeric_limits<int>::max(), 1, 1, {}, [check](InferenceContext& ctx) {
            check(ctx, 0);
            Shape shape = ctx.shape(0);
            for (std::size_t i = 1; i < ctx.input_count(); ++i) {
              require_same_dtype(ctx, 0, i);
              shape = broadcast(ctx, shape, ctx.shape(i),
                                "inputs 0 to " + std::to_string(i - 1) + " (broadcast to " + shape.to_string() +
                                    ") and " + describe_input(ctx, i));
            }
            ctx.set_output(0, ctx.dtype(0), std::move(shape));
          }};
}

} // namespace

std::vector<OpSchema> math_schemas() {
  return {
      // max(0, min(1, alpha * x + beta))
      same_type_unary("HardSigmoid", require_float, {float_attr("alpha", 0.2), float_attr("beta", 0.5)}),
      // x * HardSigmoid(x) with alpha 1/6, beta 0.5 (fixed by ONNX)
      same_type_unary("HardSwish", require_float),
      same_type_unary("Tanh", require_float),
      same_type_unary("Exp", require_float),
      same_type_unary("Sqrt", require_float),
      same_type_unary("Neg", require_signed),
      same_type_unary("Abs", require_numeric),
      same_type_unary("Sign", require_numeric),
      same_type_unary("Floor", require_float),
      same_type_unary("Ceil", require_float),
      same_type_unary("Reciprocal", require_float),
      same_type_unary("Log", require_float),
      same_type_unary("Erf", require_float),
      // log(1 + exp(x)); x / (1 + |x|)
      same_type_unary("Softplus", require_float),
      same_type_unary("Softsign", require_float),
      // x < 0 ? alpha * (exp(x) - 1) : x
      same_type_unary("Elu", require_float, {float_attr("alpha", 1.0)}),
      // gamma * (x < 0 ? alpha * (exp(x) - 1) : x), with ONNX's constants
      same_type_unary("Selu", require_float,
                      {float_attr("alpha", 1.67326319217681884765625), float_attr("gamma", 1.05070102214813232421875)}),
      // x > alpha ? x : 0
      same_type_unary("ThresholdedRelu", require_float, {float_attr("alpha", 1.0)}),
      same_type_unary("Sin", require_float),
      same_type_unary("Cos", require_float),
      same_type_unary("Tan", require_float),
      same_type_unary("Asin", require_float),
      same_type_unary("Acos", require_float),
      same_type_unary("Atan", require_float),
      same_type_unary("Sinh", require_float),
      same_type_unary("Cosh", require_float),
      same_type_unary("Asinh", require_float),
      same_type_unary("Acosh", require_float),
      same_type_unary("Atanh", require_float),
      float_test("IsNaN"),
      float_test("IsInf", {int_attr("detect_negative", 1), int_attr("detect_positive", 1)}),
      {"Mod", 2, 2, 1, 1, {int_attr("fmod", 0)}, infer_mod},
      {"Pow", 2, 2, 1, 1, {}, infer_pow},
      variadic("Min", require_numeric),
      variadic("Max", require_numeric),
      variadic("Sum", require_float),
      variadic("Mean", require_float),
  };
}

} // namespace tern::detail
