#pragma once
/// \file recipes.hpp
/// Graph recipes: rewrites that keep the graph's results (up to float rounding).

#include <tern/graph.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace tern {

/// Removes Flatten nodes where that is safe (the seed's `remove_flatten`): a Flatten that
/// changes nothing (input already [N, K] with axis 1), and a Flatten(axis=1) whose every
/// reader is the A input of a Gemm (Tern's Gemm flattens a rank>2 A itself, like
/// AIDGE's FC). A Flatten producing a graph output is kept. Returns how many were removed.
std::size_t remove_flatten(Graph& graph);

/// Folds BatchNormalization into the preceding Conv or Gemm when the BN is that node's only
/// reader and the weights (and bias, scale, B, mean, var) are constants. The Conv/Gemm gets
/// new constants and a bias; the BN disappears. Returns how many were folded.
std::size_t fold_batchnorm(Graph& graph);

/// Turns each BatchNormalization that fold_batchnorm left (no Conv or Gemm before it) into
/// the depthwise 1x1 Conv it computes (weights scale / sqrt(var + eps), bias B - mean ·
/// that), keeping the node's name and meta. Only inference-mode BNs with constant
/// parameters, one output and an input of rank 3 or more. Returns how many were turned.
std::size_t batchnorm_as_conv(Graph& graph);

/// Fuses the layer normalisation exporters write op by op, (x - mean(x)) / sqrt(mean((x -
/// mean(x))^2) + eps) over trailing axes (ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt,
/// Div), with an optional Mul by a constant scale and Add of a constant bias after it, into
/// one LayerNormalization (the last node of the chain keeps its name and meta). Only where
/// every intermediate value has no other reader. Returns how many were fused.
std::size_t fuse_layer_norm(Graph& graph);

/// True for a ReduceMean over every spatial axis (2 .. rank-1) of its input.
bool is_global_mean(const Node& node);

/// Turns each ReduceMean of is_global_mean into GlobalAveragePool (the node keeps its name
/// and meta), followed by a Flatten(axis=1) when it had keepdims=0. Returns how many.
std::size_t mean_as_global_pool(Graph& graph);

/// Turns each MatMul of a rank-2 input by a constant float matrix into a Gemm (the node
/// keeps its name and meta), taking in the Add of a constant bias ([N] or [1, N]) that is
/// the product's only reader (whose meta, describing the value the Gemm now produces,
/// overrides the MatMul's): the linear layer some exporters write as MatMul + Add is the
/// Gemm others write. Returns how many were turned.
std::size_t matmul_as_gemm(Graph& graph);

/// Replaces every node whose inputs are all constants by constants computed with the first
/// backend of `backends` that has a kernel for it (a node no backend can run is left as
/// it is). Chains fold completely: nodes are visited in topological order. Returns how
/// many nodes were folded.
std::size_t fold_constants(Graph& graph, const std::vector<std::string>& backends);

/// Replaces by constants what shape inference already knows: the output of each Shape or
/// Size whose input's reported dimensions are all static, and, where some are dynamic (a
/// batch, say), the Gathers (axis 0, constant indices) and Slices (axis 0, constant
/// bounds, step 1) that pick only static ones; then folds the int64 arithmetic exporters
/// write between them and Reshape (Unsqueeze, Concat, Mul, ...) with fold_constants on
/// `backends`, and repeats while that makes more shapes known. With every input shape
/// static the compute graph ends up static. Nodes left without readers go. Infers the
/// graph's types (and throws on a graph that does not infer). Returns how many Shape-
/// derived values became constants.
std::size_t fold_shapes(Graph& graph, const std::vector<std::string>& backends);

/// Removes the nodes none of whose outputs is read or a graph output (what other rewrites
/// leave behind). Returns how many went.
std::size_t remove_dead_nodes(Graph& graph);

/// Folds an activation (Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh) into
/// the Conv, ConvChannelsLast or Gemm that produces its input (applied after the bias and
/// a ConvChannelsLast's residual), through the Tern-extension attributes
/// `activation`, `activation_alpha` and `activation_beta` (oneDNN post-ops): LeakyRelu's
/// alpha; Clip's min and max (-inf and +inf when absent); HardSigmoid's alpha and beta.
/// Only when the activation is the sole reader of that output, which is not a graph output,
/// the Conv/Gemm has no activation yet, and a Clip's bounds are absent or constants. The
/// Conv/Gemm node (name, meta) stays; the activation goes as by Graph::bypass_node, so a
/// graph output keeps its name. Returns how many were folded.
std::size_t fuse_activations(Graph& graph);

/// Folds SiLU, x * Sigmoid(x) written as two nodes, into the float Conv, ConvChannelsLast
/// or Gemm computing x, as its activation "SiLU" (oneDNN's swish post-op): where only the
/// Sigmoid and the Mul read x, only the Mul reads the Sigmoid, x is no graph output, and
/// the producer has no activation yet. The Mul's output name survives as a graph output's,
/// as fuse_activations does. Separate from fuse_activations, which the PTQ's calibration
/// also runs: there x is a value it observes, and would then hold SiLU(x). Infers the
/// graph's types. Returns how many it folded.
std::size_t fuse_silu(Graph& graph);

/// Folds a Requantize into the integer Conv, Gemm or MatMul (int8/uint8 X, int8 W) whose
/// int32 output it reads, through the Tern-extension attributes `requantize_scale`,
/// `requantize_lo`, `requantize_hi` and `requantize_to`: the backend then writes the 8-bit
/// result directly. Only when the Requantize is the sole reader of that output, which is
/// not a graph output, and its per-channel axis (if any) is the producer's channel axis
/// (Conv: dimension 1; Gemm, MatMul: the last). Infers the graph's types (so it throws on a
/// graph that does not infer). A graph output keeps its name. Returns how many were folded.
std::size_t fuse_requantize(Graph& graph);

/// Folds the integer residual Add, Requantize(Add(Requantize(a) -> int32, Requantize(b) ->
/// int32)) -> int8/uint8 with a and b 8-bit, into one RequantizeAdd(a, b) node: the backend
/// reads each branch once and writes the 8-bit sum. Only where each int32 value has the one
/// reader, none is a graph output, the term Requantizes clamp at int32's bounds, a and b
/// have one shape, per-channel scales share one axis, and the two terms cannot overflow
/// int32 together. The last Requantize's node (name, meta) gives way to the new one, whose
/// output is the same value. Infers the graph's types. Returns how many were folded.
std::size_t fuse_requantize_add(Graph& graph);

/// Runs convolutional regions channels last ([N, D..., C], tern/channels_last.hpp) where
/// the backend of `backends` that would run a node (the first with a kernel for it) runs its
/// channels-last form: each integer (8-bit X, int8 W) or float32 Conv becomes Transpose,
/// ConvChannelsLast, Transpose back; then Transposes that undo each other cancel, and
/// channels-first ones move below the ops that run on either layout (Requantize,
/// RequantizeAdd, Concat with their axes renumbered; the elementwise ops; MaxPool and
/// GlobalAveragePool as their channels-last forms): below an op that is their only reader,
/// below all their readers when those meet again (x * Sigmoid(x)), or below an op whose
/// readers all want channels last. So consecutive ops pass channels-last tensors and
/// Transposes remain at the edges of the regions. Results are unchanged (every node
/// computes what it did); graph outputs keep their names and layouts. Infers the graph's
/// types. Returns how many Convs it turned.
std::size_t channels_last_ops(Graph& graph, const std::vector<std::string>& backends);

/// Folds a float residual Add into the ConvChannelsLast computing one of its operands, as
/// that Conv's fourth input Z (added to its result before the activation): Add(Conv(x),
/// z) becomes ConvChannelsLast(x, W, B, z), whose output takes over the Add's readers (and
/// a graph output's name). Only where the Conv's output is read by the Add alone and is no
/// graph output, the Conv has no activation or residual yet, z has the output's shape and
/// dtype (no broadcasting), and the backend of `backends` that runs the Conv runs it with Z
/// too. Run fuse_activations after it to fold the activation that reads the sum. Infers
/// the graph's types. Returns how many Adds it folded.
std::size_t fuse_residual_adds(Graph& graph, const std::vector<std::string>& backends);

/// Moves each channels-last region (channels_last_ops) whose convolution work is mostly
/// depthwise, 1x1 or (on blocks of 16) over fewer than 64 input channels into blocks of
/// channels ([N, C/b, D..., b], tern/channels_last.hpp),
/// where oneDNN runs those convolutions faster: its ConvChannelsLast, MaxPoolChannelsLast
/// and GlobalAveragePoolChannelsLast become ConvBlocked, MaxPoolBlocked and
/// GlobalAveragePoolBlocked, its elementwise ops and Concats stay (on blocks), the
/// Transposes into it become ToChannelBlocks and those out of it FromChannelBlocks, and a
/// Conv reading an image whose channels do not fill a block reads it channels first. Only
/// where every value of the region is float32 with static channels in whole blocks (b = 16,
/// else 8) or, failing both, in blocks of 16 (else 8) whose last is padded (no Div, no broadcasting
/// over channels, Concats of whole blocks), and the backend of `backends` running each op
/// runs its blocked form. FromChannelBlocks then carries the real channel count. Results
/// are unchanged. Infers the graph's types. Returns how many regions it moved.
std::size_t channel_blocks(Graph& graph, const std::vector<std::string>& backends);

/// Makes the requantizations that clamp at 0 or above (after a ReLU or ReLU6) write uint8
/// instead of int8: Requantize's and RequantizeAdd's `to`, an affine op's `requantize_to`.
/// The values, in [0, 127], are the same bytes; oneDNN's int8 kernels run faster on
/// unsigned activations (VNNI multiplies uint8 by int8). Only where no graph output changes
/// dtype and every node the change reaches (through the ops whose output dtype follows
/// their input's) reads values, not bytes (convolutions, matrix products, requantizations,
/// MaxPool, Relu, Concat, the reshaping ops, DequantizeLinear), and still runs on the
/// backend of `backends` that ran it. Results are unchanged. Infers the graph's types where
/// it finds a requantization to retype. Returns how many it retyped.
std::size_t unsigned_activations(Graph& graph, const std::vector<std::string>& backends);

} // namespace tern
