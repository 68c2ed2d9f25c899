// Comparisons (Equal, Greater, Less, GreaterOrEqual, LessOrEqual: numeric operands, bool
// result), logic on bool (Not, And, Or, Xor) and Where (bool condition choosing between two
// tensors). Binary and ternary forms broadcast like numpy.
#include "builtin_schemas.hpp"
#include <tern/schema_helpers.hpp>

namespace tern::detail {
namespace {

void require_bool(const InferenceContext& ctx, std::size_t i) {
  ctx.require(ctx.dtype(i) == DataType::Bool, [&] {
    return describe_input(ctx, i) + " must be bool: " + ctx.node().op_type() + " is defined on bool tensors only";
  });
}

/// Two operands of one dtype (checked by `check`), broadcast both ways, a bool result.
OpSchema bool_binary(std::string op_type, void (*check)(const InferenceContext&, std::size_t)) {
  return {std::move(op_type), 2, 2, 1, 1, {}, [check](InferenceContext& ctx) {
            check(ctx, 0);
            require_same_dtype(ctx, 0, 1);
            ctx.set_output(0, DataType::Bool, broadcast(ctx, 0, 1));
          }};
}

void infer_not(InferenceContext& ctx) {
  require_bool(ctx, 0);
  ctx.set_output(0, DataType::Bool, ctx.shape(0));
}

// Where(condition, X, Y): the three shapes broadcast together; the result has X's dtype.
void infer_where(InferenceContext& ctx) {
  require_bool(ctx, 0);
  require_same_dtype(ctx, 1, 2);
  const Shape values = broadcast(ctx, 1, 2);
  ctx.set_output(0, ctx.dtype(1),
                 broadcast(ctx, ctx.shape(0), values,
                           describe_input(ctx, 0) + " and inputs 1 and 2 (broadcast to " + values.to_string() + ")"));
}

} // namespace

std::vector<OpSchema> logic_schemas() {
  // Equal is also defined on bool (ONNX 11+); the orderings are not.
  const auto any = [](const InferenceContext&, std::size_t) {};
  return {
      bool_binary("Equal", any),
      bool_binary("Greater", require_numeric),
      bool_binary("Less", require_numeric),
      bool_binary("GreaterOrEqual", require_numeric),
      bool_binary("LessOrEqual", require_numeric),
      {"Not", 1, 1, 1, 1, {}, infer_not},
      bool_binary("And", require_bool),
      bool_binary("Or", require_bool),
      bool_binary("Xor", require_bool),
      {"Where", 3, 3, 1, 1, {}, infer_where},
  };
}

} // namespace tern::detail
