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
/// "Flatten+Gemm": a Gemm node run on the input of the Flatten(axis=1) producing its A;
/// nullptr for another axis or a transposed A.
std::unique_ptr<Kernel> make_flatten_gemm(const Node& gemm);
/// MatMul with numpy batch broadcasting.
std::unique_ptr<Kernel> make_matmul(const Node& node);
std::unique_ptr<Kernel> make_max_pool(const Node& node);
/// "Conv+MaxPool": a MaxPool node together with the Conv producing its input, taking the
/// Conv's inputs; nullptr when `pool` does not fit (see conv_pool.cpp).
std::unique_ptr<Kernel> make_conv_max_pool(const Node& pool);
std::unique_ptr<Kernel> make_average_pool(const Node& node);
std::unique_ptr<Kernel> make_global_average_pool(const Node& node);
std::unique_ptr<Kernel> make_batch_normalization(const Node& node);
std::unique_ptr<Kernel> make_softmax(const Node& node);
/// Add, Sub, Mul, Div (chosen by the node's op type), numpy broadcasting both ways.
std::unique_ptr<Kernel> make_binary(const Node& node);
/// "Add+Relu": a Relu node together with the Add producing its input, taking the Add's
/// inputs; nullptr when `relu`'s input is not an Add's.
std::unique_ptr<Kernel> make_add_relu(const Node& relu);
/// Concat (float32, int32, int8, uint8); the registry matches input counts exactly, so the
/// table has one row per count.
std::unique_ptr<Kernel> make_concat(const Node& node);
/// Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh, Exp, Sqrt, Abs, Neg
/// (chosen by the node's op type).
std::unique_ptr<Kernel> make_eltwise(const Node& node);

/// Integer Conv, Gemm, MatMul (int8/uint8 X, int8 W, int32 bias; fused requantize_*
/// attributes; see the core's integer_affine.hpp): oneDNN's int8 primitives where they are
/// exact (VNNI), Tern's native int32 kernels otherwise (integer_support.hpp).
std::unique_ptr<Kernel> make_integer_conv(const Node& node);
std::unique_ptr<Kernel> make_integer_gemm(const Node& node);
std::unique_ptr<Kernel> make_integer_matmul(const Node& node);

/// The Concat row for `inputs` inputs of `dtype` (float32, int32, int8, uint8).
inline KernelDef dnnl_concat_row(std::size_t inputs, DataType dtype = DataType::Float32) {
  return {"Concat", std::vector<DataType>(inputs, dtype), make_concat};
}

} // namespace tern::cpu
