// Matrix products: Gemm (2-D, with Tern's flattening of A) and MatMul (numpy semantics).
#include "builtin_schemas.hpp"
#include "fused_activation.hpp"
#include "integer_affine.hpp"
#include <tern/schema_helpers.hpp>

#include <span>

namespace tern::detail {
namespace {

/// Fails unless the contracted dimensions agree (a dynamic one is checked when running).
void require_inner(const InferenceContext& ctx, std::int64_t a, std::int64_t b) {
  ctx.require(a == Shape::dynamic || b == Shape::dynamic || a == b, [&] {
    return "inner dimensions differ: " + describe_input(ctx, 0) + " contributes " + std::to_string(a) + ", " +
           describe_input(ctx, 1) + " contributes " + std::to_string(b);
  });
}

// Y = alpha * A' * B' + beta * C, with A' = transA ? A^T : A and B' = transB ? B^T : B.
//
// Tern extension: an A of rank > 2 with transA = 0 is read as [dim0, product of the other
// dims], as if a Flatten(axis=1) preceded the Gemm (like AIDGE's FC). This lets
// remove_flatten() drop the Flatten between a Conv stack and its classifier.
//
// Integer form (integer_affine.hpp): int8/uint8 A, int8 B, an optional int32 C holding one
// bias per column ([N] or [1, N]); alpha and beta must stay 1, A untransposed.
void infer_gemm(InferenceContext& ctx) {
  require_numeric(ctx, 0);
  const bool integer = integer_affine(ctx, 2);
  if (integer) {
    ctx.require(ctx.attr<double>("alpha") == 1.0 && ctx.attr<double>("beta") == 1.0,
                "integer inputs need alpha = beta = 1 (scales belong to the requantization)");
    ctx.require(ctx.attr<std::int64_t>("transA") == 0, "integer inputs need transA = 0");
  } else {
    require_same_dtype(ctx, 0, 1);
  }
  const bool trans_a = ctx.attr<std::int64_t>("transA") != 0;
  const bool trans_b = ctx.attr<std::int64_t>("transB") != 0;
  require_rank(ctx, 0, 2, SIZE_MAX);
  ctx.require(!trans_a || ctx.shape(0).rank() == 2, [&] {
    return describe_input(ctx, 0) + " must be 2-D with transA=1: only an untransposed A is flattened";
  });
  require_rank(ctx, 1, 2, 2);

  const std::vector<std::int64_t>& a = ctx.shape(0).dims();
  const std::int64_t rows = a[0];
  const std::int64_t cols = product(ctx, std::span(a).subspan(1), "the columns of " + describe_input(ctx, 0));
  const Shape& b = ctx.shape(1);
  const std::int64_t m = trans_a ? cols : rows;
  const std::int64_t k = trans_a ? rows : cols;
  const std::int64_t n = trans_b ? b[0] : b[1];
  require_inner(ctx, k, trans_b ? b[1] : b[0]);
  check_fused_activation(ctx);

  Shape y{m, n};
  if (ctx.has_input(2)) {
    if (integer) {
      const Shape& c = ctx.shape(2);
      ctx.require((c.rank() == 1 || (c.rank() == 2 && c[0] == 1)) && (c[c.rank() - 1] == n || n == Shape::dynamic),
                  [&] {
                    return describe_input(ctx, 2) + " must be a bias of shape [" + std::to_string(n) + "] or [1," +
                           std::to_string(n) + "] for integer inputs";
                  });
    } else {
      require_same_dtype(ctx, 0, 2);
      ctx.require(broadcasts_to(ctx.shape(2), y),
                  [&] { return describe_input(ctx, 2) + " does not broadcast to the output shape " + y.to_string(); });
    }
  }
  const DataType type = affine_output_dtype(ctx, integer, n, "the last dimension of the output");
  ctx.set_output(0, type, std::move(y));
}

// numpy.matmul: the last two dims multiply, the leading ones broadcast. A 1-D A is a row
// [1, K] and a 1-D B a column [K, 1]; the added dimension is removed from the result.
// Integer form: int8/uint8 A, int8 B (integer_affine.hpp).
void infer_matmul(InferenceContext& ctx) {
  require_numeric(ctx, 0);
  const bool integer = integer_affine(ctx, 2);
  if (!integer) require_same_dtype(ctx, 0, 1);
  require_rank(ctx, 0, 1, SIZE_MAX);
  require_rank(ctx, 1, 1, SIZE_MAX);
  std::vector<std::int64_t> a = ctx.shape(0).dims();
  std::vector<std::int64_t> b = ctx.shape(1).dims();
  const bool vector_a = a.size() == 1;
  const bool vector_b = b.size() == 1;
  if (vector_a) a.insert(a.begin(), 1);
  if (vector_b) b.push_back(1);
  require_inner(ctx, a.back(), b[b.size() - 2]);

  using Dims = std::vector<std::int64_t>;
  const Shape batch = broadcast(ctx, Shape(Dims(a.begin(), a.end() - 2)), Shape(Dims(b.begin(), b.end() - 2)),
                                "the batch dimensions of " + describe_input(ctx, 0) + " and " + describe_input(ctx, 1));
  std::vector<std::int64_t> y = batch.dims();
  if (!vector_a) y.push_back(a[a.size() - 2]);
  if (!vector_b) y.push_back(b.back());
  const DataType type = affine_output_dtype(ctx, integer, b.back(), "the last dimension of the output");
  ctx.set_output(0, type, Shape(std::move(y)));
}

} // namespace

std::vector<OpSchema> gemm_matmul_schemas() {
  return {
      {"Gemm", 2, 3, 1, 1,
       with_fused_requantize(with_fused_activation(
           {float_attr("alpha", 1.0), float_attr("beta", 1.0), int_attr("transA", 0), int_attr("transB", 0)})),
       infer_gemm},
      {"MatMul", 2, 2, 1, 1, with_fused_requantize({}), infer_matmul},
  };
}

} // namespace tern::detail
