#include "activation.hpp"
#include "kernels.hpp"

namespace naive {

void gemm(const tern::Node& node, Inputs inputs, Outputs outputs) {
  // Messages need not name the node: the scheduler adds it (and the backend) to errors.
  tern::check(inputs.size() >= 2 && outputs.size() == 1, "Gemm takes A, B (and C) and one output");
  const tern::Tensor& a = inputs[0];
  const tern::Tensor& b = inputs[1];
  tern::Tensor& y = outputs[0];
  const bool trans_a = node.attr<std::int64_t>("transA") != 0;
  const bool trans_b = node.attr<std::int64_t>("transB") != 0;
  const auto alpha = static_cast<float>(node.attr<double>("alpha"));
  const auto beta = static_cast<float>(node.attr<double>("beta"));
  // A of rank > 2 reads as [dim0, rest] (Tern's Gemm flattens it, like a Flatten(axis=1)).
  const std::int64_t a_rows = a.shape()[0], a_cols = a.numel() / a_rows;
  const std::int64_t m = y.shape()[0], n = y.shape()[1], k = trans_a ? a_rows : a_cols;
  const std::int64_t b_cols = b.shape()[1];

  // C broadcasts to [m, n]: a scalar, [n], [1, n], [m, 1] or [m, n].
  const tern::Tensor* c = inputs.size() > 2 && inputs[2].defined() ? &inputs[2] : nullptr;
  const std::int64_t c_rows = c && c->shape().rank() == 2 ? c->shape()[0] : 1;
  const std::int64_t c_cols = c && c->shape().rank() >= 1 ? c->shape()[c->shape().rank() - 1] : 1;
  const auto activate = fused_activation(node);

  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  const float* pc = c ? c->data<float>() : nullptr;
  float* out = y.data<float>();
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (std::int64_t p = 0; p < k; ++p)
        sum +=
            (trans_a ? pa[p * a_cols + i] : pa[i * a_cols + p]) * (trans_b ? pb[j * b_cols + p] : pb[p * b_cols + j]);
      float value = alpha * sum;
      if (pc) value += beta * pc[(c_rows == 1 ? 0 : i) * c_cols + (c_cols == 1 ? 0 : j)];
      out[i * n + j] = activate(value);
    }
}

std::string gemm_support(const tern::KernelQuery& query) {
  const std::size_t a_rank = query.input_shapes.at(0).rank(), b_rank = query.input_shapes.at(1).rank();
  if (a_rank < 2 || b_rank != 2)
    return "backend 'naive' runs Gemm on an A of rank 2 or more and a 2-D B, got " + std::to_string(a_rank) +
           "-D and " + std::to_string(b_rank) + "-D";
  // The loop reads a transposed A as its 2-D transpose: flattening first would need a copy.
  if (a_rank > 2 && query.node.attr<std::int64_t>("transA") != 0)
    return "backend 'naive' transposes a 2-D A only (transA), got a " + std::to_string(a_rank) + "-D A";
  return activation_support(query.node);
}

} // namespace naive
