#pragma once
// Factories of the oneDNN-backed kernels, one per op family, and the checks (KernelSupport)
// with which their rows decline nodes the kernels cannot run; rows in ../kernel_table.cpp.
// Every kernel takes float32 host tensors (unless it says otherwise), builds its primitive
// on the first run and rebuilds it only when the input shapes change (see dnnl/context.hpp).

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

#include <memory>
#include <string>

namespace tern::cpu {

/// Conv (1-, 2-, 3-D) with optional bias and the fused `activation` attributes.
std::unique_ptr<Kernel> make_conv(const Node& node);
/// The same for ConvChannelsLast: X and Y channels last, run by oneDNN's nhwc kernels.
std::unique_ptr<Kernel> make_conv_channels_last(const Node& node);
/// The same for ConvBlocked: X (or a plain image) and Y in channel blocks.
std::unique_ptr<Kernel> make_conv_blocked(const Node& node);
/// Declines a Conv whose X is not of rank 3 to 5 (float and integer Conv alike).
std::string conv_support(const KernelQuery& query);
/// Gemm (alpha, beta, transA, transB, broadcast C, fused `activation`).
std::unique_ptr<Kernel> make_gemm(const Node& node);
/// "Flatten+Gemm": a Gemm node run on the input of the Flatten(axis=1) producing its A
/// (flatten_gemm_support() has said yes).
std::unique_ptr<Kernel> make_flatten_gemm(const Node& gemm);
/// Declines a Flatten of another axis, an input of rank below 2, or a transposed A.
std::string flatten_gemm_support(const KernelQuery& query);
/// MatMul with numpy batch broadcasting.
std::unique_ptr<Kernel> make_matmul(const Node& node);
std::unique_ptr<Kernel> make_max_pool(const Node& node);
/// The same for MaxPoolChannelsLast: X and Y channels last.
std::unique_ptr<Kernel> make_max_pool_channels_last(const Node& node);
/// Declines a pooling whose X is not of rank 3 to 5, and a MaxPool with an Indices output
/// (float and integer pooling alike).
std::string pool_support(const KernelQuery& query);
/// "Conv+MaxPool": a MaxPool node together with the Conv producing its input, taking the
/// Conv's inputs (conv_max_pool_support() has said yes).
std::unique_ptr<Kernel> make_conv_max_pool(const Node& pool);
/// Declines a MaxPool with an Indices output, or a Conv conv_support() declines.
std::string conv_max_pool_support(const KernelQuery& query);
std::unique_ptr<Kernel> make_average_pool(const Node& node);
std::unique_ptr<Kernel> make_global_average_pool(const Node& node);
std::unique_ptr<Kernel> make_global_average_pool_channels_last(const Node& node);
/// The same for MaxPoolBlocked and GlobalAveragePoolBlocked: X and Y in channel blocks.
std::unique_ptr<Kernel> make_max_pool_blocked(const Node& node);
std::unique_ptr<Kernel> make_global_average_pool_blocked(const Node& node);
/// Declines a blocked op (ConvBlocked, MaxPoolBlocked, GlobalAveragePoolBlocked) whose X is
/// not a 1-, 2- or 3-D image, or whose blocks this CPU has no kernels for (16 channels
/// need AVX-512, 8 AVX2).
std::string blocked_support(const KernelQuery& query);
/// ToChannelBlocks and FromChannelBlocks: reorders to and from channel blocks.
std::unique_ptr<Kernel> make_to_channel_blocks(const Node& node);
std::unique_ptr<Kernel> make_from_channel_blocks(const Node& node);
/// Declines edges of blocks other than 8 or 16 channels (oneDNN's layouts).
std::string channel_blocks_edge_support(const KernelQuery& query);
std::unique_ptr<Kernel> make_batch_normalization(const Node& node);
std::unique_ptr<Kernel> make_softmax(const Node& node);
/// Add, Sub, Mul, Div (chosen by the node's op type), numpy broadcasting both ways.
std::unique_ptr<Kernel> make_binary(const Node& node);
/// "Add+Relu": a Relu node together with the Add producing its input, taking the Add's
/// inputs (add_relu_support() has said yes).
std::unique_ptr<Kernel> make_add_relu(const Node& relu);
/// Declines a Relu whose input is not an Add's.
std::string add_relu_support(const KernelQuery& query);
/// Concat of any number of float32, int32, int8 or uint8 inputs.
std::unique_ptr<Kernel> make_concat(const Node& node);
/// Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh, Exp, Sqrt, Abs, Neg
/// (chosen by the node's op type).
std::unique_ptr<Kernel> make_eltwise(const Node& node);

/// Integer Conv, Gemm, MatMul (int8/uint8 X, int8 W, int32 bias; fused requantize_*
/// attributes; see the core's integer_affine.hpp) on oneDNN's int8 primitives; their rows'
/// int8_primitives_support declines the nodes these would not compute exactly, which the
/// native rows after them then run.
std::unique_ptr<Kernel> make_integer_conv(const Node& node);
/// The same for ConvChannelsLast: X and Y channels last, as oneDNN's int8 kernels take them.
std::unique_ptr<Kernel> make_integer_conv_channels_last(const Node& node);
std::unique_ptr<Kernel> make_integer_gemm(const Node& node);
std::unique_ptr<Kernel> make_integer_matmul(const Node& node);
/// Declines the nodes oneDNN's int8 primitives would not compute exactly on this CPU (no
/// VNNI and weights beyond ±63): the rows of the native integer kernels after it run them.
std::string int8_primitives_support(const KernelQuery& query);

} // namespace tern::cpu
