// Matrix products: Gemm (2-D, with Tern's flattening of A) and MatMul (numpy semantics).
#include "builtin_schemas.hpp"
#include "fused_activation.hpp"
#include "shape_helpers.hpp"

#include <span>

namespace tern::detail {
namespace {

/// Fails unless the contracted dimensions agree (a dynamic one is checked when running).
void require_inner(const InferenceContext& ctx, std::int64_t a, std::int64_t b) {
  ctx.require(a == Shape::dynamic || b == Shape::dynamic || a == b,
              "inner dimensions differ: " + describe_input(ctx, 0) + " contributes " + std::to_string(a) + ", " +
                  describe_input(ctx, 1) + " contributes " + std::to_string(b));
}

// Y = alpha * A' * B' + beta * C, with A' = transA ? A^T : A and B' = transB ? B^T : B.
//
// Tern extension: an A of rank > 2 with transA = 0 is read as [dim0, product of the other
// dims], as if a Flatten(axis=1) preceded the Gemm (like AIDGE's FC). This lets
// remove_flatten() drop the Flatten between a Conv stack and its classifier.
void infer_gemm(InferenceContext& ctx) {
  require_numeric(ctx, 0);
  require_same_dtype(ctx, 0, 1);
  const bool trans_a = ctx.attr<std::int64_t>("transA") != 0;
  const bool trans_b = ctx.attr<std::int64_t>("transB") != 0;
  require_rank(ctx, 0, 2, SIZE_MAX);
  ctx.require(!trans_a || ctx.shape(0).rank() == 2, describe_input(ctx, 0) +
                                                       " must be 2-D with transA=1: only an untransposed A is flattened");
  require_rank(ctx, 1, 2, 2);

  const std::vector<std::int64_t>& a = ctx.shape(0).dims();
  const std::int64_t rows = a[0];
  const std::int64_t cols = product(std::span(a).subspan(1));
  const Shape& b = ctx.shape(1);
  const std::int64_t m = trans_a ? cols : rows;
  const std::int64_t k = trans_a ? rows : cols;
  const std::int64_t n = trans_b ? b[0] : b[1];
  require_inner(ctx, k, trans_b ? b[1] : b[0]);
  check_fused_activation(ctx);

  Shape y{m, n};
  if (ctx.has_input(2)) {
    require_same_dtype(ctx, 0, 2);
    ctx.require(broadcasts_to(ctx.shape(2), y),
                describe_input(ctx, 2) + " does not broadcast to the output shape " + y.to_string());
  }
  ctx.set_output(0, ctx.dtype(0), std::move(y));
}

// numpy.matmul: the last two dims multiply, the leading ones broadcast. A 1-D A is a row
// [1, K] and a 1-D B a column [K, 1]; the added dimension is removed from the result.
void infer_matmul(InferenceContext& ctx) {
  require_numeric(ctx, 0);
  require_same_dtype(ctx, 0, 1);
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
  ctx.set_output(0, ctx.dtype(0), Shape(std::move(y)));
}

} // namespace

std::vector<OpSchema> gemm_matmul_schemas() {
  return {
      {"Gemm", 2, 3, 1, 1,
       with_fused_activation(
           {float_attr("alpha", 1.0), float_attr("beta", 1.0), int_attr("transA", 0), int_attr("transB", 0)}),
       infer_gemm},
      {"MatMul", 2, 2, 1, 1, {}, infer_matmul},
  };
}

} // namespace tern::detail
