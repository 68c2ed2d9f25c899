#pragma once
// Factories of Tern's own CPU kernels (what oneDNN lacks); rows in ../kernel_table.cpp.
// Each factory reads and checks the node's attributes once, when the plan is compiled;
// the kernels it makes check their tensors on every run and throw tern::Error (the
// scheduler adds the node and the backend to the message).

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

#include <memory>

namespace tern::cpu {

// movement.cpp: the output holds the input's elements unchanged (any dtype).
/// Reshape, Flatten, Identity, Squeeze, Unsqueeze: copies input 0 (the scheduler has given
/// the output its inferred shape; the axes/shape inputs only shaped it).
std::unique_ptr<Kernel> make_copy(const Node& node);
/// Dropout at inference: copies the input; the optional mask output is all true.
std::unique_ptr<Kernel> make_dropout(const Node& node);
/// Constant: copies the "value" tensor attribute.
std::unique_ptr<Kernel> make_constant(const Node& node);
/// Shape: the input's dimensions [start, end) as int64.
std::unique_ptr<Kernel> make_shape(const Node& node);
/// Size: the input's element count as an int64 scalar.
std::unique_ptr<Kernel> make_size(const Node& node);

// concat.cpp
/// Concat of any number of inputs of any one dtype along "axis" (oneDNN's kernel takes
/// float32, int32, int8 and uint8; this one the rest, int64 shapes above all).
std::unique_ptr<Kernel> make_native_concat(const Node& node);

// conv_transpose.cpp
/// ConvTranspose (float32, 1- to 3-D, groups, dilations, output_padding/output_shape, bias),
/// and on int8/uint8 X, int8 W and int32 B the exact int32 sums.
std::unique_ptr<Kernel> make_conv_transpose(const Node& node);

// transpose.cpp
/// Transpose by "perm" (default: reversed axes), any dtype.
std::unique_ptr<Kernel> make_transpose(const Node& node);

// pad.cpp
/// Pad (opset 18 inputs: pads, constant_value, axes), modes constant, reflect and edge; any dtype.
std::unique_ptr<Kernel> make_pad(const Node& node);

// cast_round.cpp
/// Cast to attribute "to" through tern::convert (NaN to 0, truncation toward zero, saturation).
std::unique_ptr<Kernel> make_cast(const Node& node);
/// Round (float32): halves to even.
std::unique_ptr<Kernel> make_round(const Node& node);

// elementwise.cpp: numpy multidirectional broadcasting (see broadcast.hpp).
/// Pow: float32 base, float32/int32/int64 exponent.
std::unique_ptr<Kernel> make_pow(const Node& node);
/// Min, Max over any number of inputs of any numeric dtype; Sum, Mean of float32 ones.
std::unique_ptr<Kernel> make_min(const Node& node);
std::unique_ptr<Kernel> make_max(const Node& node);
std::unique_ptr<Kernel> make_sum(const Node& node);
std::unique_ptr<Kernel> make_mean(const Node& node);
/// Mod on every numeric dtype; "fmod" picks C's (1) or Python's (0) sign rule.
std::unique_ptr<Kernel> make_mod(const Node& node);
/// Add, Sub, Mul on int32 or int64, wrapping around on overflow as ONNX Runtime does; Div
/// truncating toward zero (a zero divisor gives 0).
std::unique_ptr<Kernel> make_integer_arithmetic(const Node& node);

// unary.cpp: float32 functions of one input, one table row per op type.
/// Log, Reciprocal, Floor, Ceil, Sign, Erf, Softplus, Softsign, Elu, Selu, ThresholdedRelu,
/// Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh.
std::unique_ptr<Kernel> make_unary(const Node& node);
/// IsNaN, IsInf (detect_negative, detect_positive): float32 in, bool out.
std::unique_ptr<Kernel> make_float_class(const Node& node);

// logic.cpp: numpy broadcasting, bool results or conditions.
/// Equal, Greater, Less, GreaterOrEqual, LessOrEqual on two tensors of one dtype.
std::unique_ptr<Kernel> make_compare(const Node& node);
/// And, Or, Xor, Not on bool.
std::unique_ptr<Kernel> make_and(const Node& node);
std::unique_ptr<Kernel> make_or(const Node& node);
std::unique_ptr<Kernel> make_xor(const Node& node);
std::unique_ptr<Kernel> make_not(const Node& node);
/// Where(condition, X, Y), any dtype of X and Y.
std::unique_ptr<Kernel> make_where(const Node& node);

// generate.cpp
/// Expand (broadcast to a shape) and Tile (repeat per axis), any dtype.
std::unique_ptr<Kernel> make_expand(const Node& node);
std::unique_ptr<Kernel> make_tile(const Node& node);
/// ConstantOfShape: attribute "value" (default float32 0) repeated to the shape input.
std::unique_ptr<Kernel> make_constant_of_shape(const Node& node);
/// Range(start, limit, delta): start + i * delta.
std::unique_ptr<Kernel> make_range(const Node& node);

// gather_slice.cpp: any data dtype, int32/int64 indices.
/// Gather along "axis"; negative indices count from the end; out of range throws.
std::unique_ptr<Kernel> make_gather(const Node& node);
/// Slice with starts/ends and optional axes/steps inputs; negative steps walk backwards.
std::unique_ptr<Kernel> make_slice(const Node& node);

// reduce.cpp
/// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
/// ReduceSumSquare, ReduceLogSum, ReduceLogSumExp (float32, float64) over the axes (the
/// "axes" attribute, or ReduceSum's input 1; all axes when absent), "keepdims".
std::unique_ptr<Kernel> make_reduce(const Node& node);

// along_axis.cpp: float32, one "axis".
/// ArgMax, ArgMin: int64 indices (keepdims, select_last_index).
std::unique_ptr<Kernel> make_arg_extreme(const Node& node);
/// LogSoftmax, Hardmax (opset 13: the axis alone).
std::unique_ptr<Kernel> make_log_softmax(const Node& node);
std::unique_ptr<Kernel> make_hardmax(const Node& node);

// layer_norm.cpp
/// LayerNormalization (float32) over the axes from "axis" on, with the optional Mean and
/// InvStdDev outputs.
std::unique_ptr<Kernel> make_layer_normalization(const Node& node);

// resize.cpp
/// Resize (float32, int8, uint8): nearest and n-linear, every coordinate_transformation_mode
/// and nearest_mode; 8-bit blends rounded half to even.
std::unique_ptr<Kernel> make_resize(const Node& node);

// quantize.cpp
/// QuantizeLinear float32 -> int8/uint8, per tensor or per "axis".
std::unique_ptr<Kernel> make_quantize_linear(const Node& node);
/// DequantizeLinear int8/uint8/int32 -> float32, per tensor or per "axis".
std::unique_ptr<Kernel> make_dequantize_linear(const Node& node);

// requantize.cpp, requantize_add.cpp, integer_conv.cpp, integer_matmul.cpp, integer_relu.cpp, integer_pool.cpp: integer
// execution (see the core's integer_affine.hpp and native/requantize.hpp).
/// Requantize: float32/int32/int8/uint8 -> int8/uint8/int32, per tensor or per "axis".
std::unique_ptr<Kernel> make_requantize(const Node& node);
/// RequantizeAdd (requantize_add.cpp): the integer residual Add of two 8-bit branches.
std::unique_ptr<Kernel> make_requantize_add(const Node& node);
/// Conv, Gemm, MatMul on int8/uint8 X and int8 W with exact int32 accumulation (and the
/// fused requantize_* attributes): the path for CPUs without VNNI (make_integer_conv, ...
/// in ../dnnl/dnnl_ops.hpp choose).
std::unique_ptr<Kernel> make_native_integer_conv(const Node& node);
std::unique_ptr<Kernel> make_native_integer_gemm(const Node& node);
std::unique_ptr<Kernel> make_native_integer_matmul(const Node& node);
/// Relu on int8 (max(x, 0)) and uint8 (a copy).
std::unique_ptr<Kernel> make_integer_relu(const Node& node);
/// MaxPool on int8 and uint8 (integer_pool.cpp), in plain nchw; MaxPoolChannelsLast in nhwc.
std::unique_ptr<Kernel> make_integer_max_pool(const Node& node);
std::unique_ptr<Kernel> make_integer_max_pool_channels_last(const Node& node);
/// TableLookup: int8/uint8 x, a 256-entry int8/uint8/int32 table (table_lookup.cpp).
std::unique_ptr<Kernel> make_table_lookup(const Node& node);

// ptq_statistics.cpp: the PTQ's statistics operators (the core's ops/ptq_statistics.cpp),
// the CPU reference of the "cuda" plugin's kernels.
/// PtqRange: min, max, max|x| and the non-finite count, per tensor or per "axis".
std::unique_ptr<Kernel> make_ptq_range(const Node& node);
/// PtqHistogram: counts of |x| over [0, range] in "bins" bins, as the PTQ bins them.
std::unique_ptr<Kernel> make_ptq_histogram(const Node& node);
/// PtqFakeQuantize: the float32 Mul -> Round -> Clip -> Mul of a fake-quantized graph.
std::unique_ptr<Kernel> make_ptq_fake_quantize(const Node& node);

} // namespace tern::cpu
