#pragma once
// The quantized network in ONNX's QDQ form (QuantizeLinear / DequantizeLinear around float
// operators), what integer runtimes (ONNX Runtime, TensorRT, OpenVINO) fuse into their int8
// kernels. Built from the integer graph (cast_to_integer runs first when needed):
//   - the float input goes through one QuantizeLinear (Tern's input scaling as its scale);
//   - each Conv/Gemm/MatMul reads DequantizeLinear(x), DequantizeLinear(int8 weights, per
//     output channel), DequantizeLinear(int32 bias, scale x·w) and feeds one QuantizeLinear;
//     the last one, whose accumulator Tern dequantizes, gives the float output directly;
//   - a residual Add reads two DequantizeLinear and feeds a QuantizeLinear, and so does the
//     average pooling cast_to_integer made a depthwise Conv of ones (GlobalAveragePool or
//     AveragePool again);
//   - MaxPool, Reshape, Flatten, Squeeze, Unsqueeze, Identity, Relu, Concat stay on the
//     8-bit tensors.
// Activations are uint8 (x86 integer kernels take u8 activations, s8 weights, and an op's
// input and output of one type): zero point 128, or 0 where Tern clamps at 0 (the Relu then
// implied, and Tern's upper clamp at 127 widened to 255). Only ratios of scales are fixed by the integer graph (a
// Requantize's factor is x_scale·w_scale/y_scale): an affine output gets x_scale / (127·max
// factor), so its weights dequantize into [-1, 1], except the operands of a residual Add,
// whose scales the Add ties together. The float input is saturated to [-128, 127] where
// Tern clamps to ±(2^(n-1)-1). Weights and biases leave out their zero points (0).

#include "options.hpp"

#include <tern/pass.hpp>

namespace tern::ptq {

void to_qdq(Graph& graph, PassContext& context, const Options& options);

} // namespace tern::ptq
