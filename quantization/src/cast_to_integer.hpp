#pragma once
// fake_quantize=false: the fake-quantized graph becomes an integer one. Each quantizer
// (Mul → Round → Clip) becomes one Requantize to int8/uint8 (int4 values stored one per
// byte), weights become int8 and biases int32 constants, Conv/Gemm/MatMul then read
// integers and accumulate in int32, residual Adds sum in int32 and average pools become
// depthwise Convs of ones, and nodes without integer kernels get a Cast to float. The
// affine arithmetic is unchanged: outputs are bit-identical to the fake-quantized graph's as
// long as accumulations stay below 2^24 in magnitude (float32 integers are exact there);
// Adds and pools round once where the float graph rounded twice, so rare near-ties differ.

#include "options.hpp"

#include <tern/pass.hpp>

namespace tern::ptq {

void cast_to_integer(Graph& graph, PassContext& context, const Options& options);

} // namespace tern::ptq
