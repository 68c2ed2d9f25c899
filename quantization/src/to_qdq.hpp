#pragma once
// The quantized network in ONNX's QDQ form (QuantizeLinear / DequantizeLinear around float
// operators), what integer runtimes (ONNX Runtime, TensorRT, OpenVINO) fuse into their int8
// kernels. Built from the integer graph (cast_to_integer runs first when needed), each 8-bit
// tensor keeping Tern's integers and the real step quantize_network recorded (step_key):
//   - the float input goes through one QuantizeLinear (Tern's input scaling as its scale);
//   - each Conv/Gemm/MatMul reads DequantizeLinear(x), DequantizeLinear(int8 weights, per
//     output channel, scale r·s_y/s_x from its Requantize's factor r), DequantizeLinear(int32
//     bias, scale s_x·s_w) and feeds one QuantizeLinear; the last one, whose accumulator
//     Tern dequantizes, gives the float output directly;
//   - residual Adds, products of two activations (squeeze-excitation, SiLU), average pools
//     (cast_to_integer's depthwise Convs of ones) and per-channel rescales compute in float
//     between DequantizeLinear and QuantizeLinear;
//   - a table lookup (Sigmoid, HardSwish... on 8-bit integers) is a Gather of the same table;
//   - MaxPool, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Identity, Slice, Gather,
//     Concat (its inputs requantized to one step first), nearest Resize stay on the 8-bit
//     tensors;
//   - float islands (--keep-float, LayerNormalization) start with a DequantizeLinear and
//     stay as they are up to the next QuantizeLinear.
// Activations are uint8 (x86 integer kernels take u8 activations, s8 weights, and an op's
// input and output of one type): zero point 128, or 0 where Tern clamps at 0 (the Relu then
// implied, and Tern's upper clamp at 127 widened to 255). The float input is saturated to
// [-128, 127] where Tern clamps to ±(2^(n-1)-1). Weights and biases leave out their zero
// points (0).

#include "options.hpp"

#include <tern/pass.hpp>

namespace tern::ptq {

void to_qdq(Graph& graph, PassContext& context, const Options& options);

} // namespace tern::ptq
