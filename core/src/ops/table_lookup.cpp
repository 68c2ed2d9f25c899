// TableLookup: an elementwise function of an 8-bit integer tensor, tabulated. y = T[x - lowest],
// lowest being -128 for int8 and 0 for uint8, so T holds the function's 256 results in
// the order of x's values. What the PTQ makes of Sigmoid, HardSwish, Tanh, ... between
// quantized layers (cast_to_integer computes T by running the float op on every integer).
#include "builtin_schemas.hpp"
#include <tern/schema_helpers.hpp>

namespace tern::detail {
namespace {

void infer_table_lookup(InferenceContext& ctx) {
  const DataType x = ctx.dtype(0);
  ctx.require(x == DataType::Int8 || x == DataType::UInt8,
              [&] { return describe_input(ctx, 0) + " must be int8 or uint8"; });
  const DataType t = ctx.dtype(1);
  ctx.require(t == DataType::Int8 || t == DataType::UInt8 || t == DataType::Int32,
              [&] { return describe_input(ctx, 1) + " must be int8, uint8 or int32"; });
  ctx.require(ctx.shape(1) == Shape{256}, [&] {
    return describe_input(ctx, 1) + " has shape " + ctx.shape(1).to_string() +
           ", expected [256] (one entry per 8-bit value)";
  });
  ctx.set_output(0, t, ctx.shape(0));
}

} // namespace

std::vector<OpSchema> table_lookup_schemas() { return {{"TableLookup", 2, 2, 1, 1, {}, infer_table_lookup}}; }

} // namespace tern::detail
