#pragma once
// Factories of the oneDNN-backed kernels, one per op family; rows in ../kernel_table.cpp.
// Every kernel takes float32 host tensors, builds its primitive on the first run and
// rebuilds it only when the input shapes change (see dnnl/context.hpp).

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

#include <memory>

namespace tern::cpu {

/// Conv (1-, 2-, 3-D) with optional bias and the fused `activation` attributes.
std::unique_ptr<Kernel> make_conv(const Node& node);
/// Gemm (alpha, beta, transA, transB, broadcast C, fused `activation`).
std::unique_ptr<Kernel> make_gemm(const Node& node);
/// MatMul with numpy batch broadcasting.
std::unique_ptr<Kernel> make_matmul(const Node& node);
std::unique_ptr<Kernel> make_max_pool(const Node& node);
std::unique_ptr<Kernel> make_average_pool(const Node& node);
std::unique_ptr<Kernel> make_global_average_pool(const Node& node);
std::unique_ptr<Kernel> make_batch_normalization(const Node& node);
std::unique_ptr<Kernel> make_softmax(const Node& node);
/// Add, Sub, Mul, Div (chosen by the node's op type), numpy broadcasting both ways.
std::unique_ptr<Kernel> make_binary(const Node& node);
/// Concat; the registry matches input counts exactly, so the table has one row per count.
std::unique_ptr<Kernel> make_concat(const Node& node);
/// Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh, Exp, Sqrt, Abs, Neg
/// (chosen by the node's op type).
std::unique_ptr<Kernel> make_eltwise(const Node& node);

/// The Concat row for `inputs` float32 inputs.
inline KernelDef dnnl_concat_row(std::size_t inputs) {
  return {"Concat", std::vector<DataType>(inputs, DataType::Float32), make_concat};
}

} // namespace tern::cpu
