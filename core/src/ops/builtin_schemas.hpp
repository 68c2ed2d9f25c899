#pragma once
/// \file builtin_schemas.hpp
/// The schemas of the core's built-in operators. The registry (operator.cpp) calls
/// builtin_schemas() once, on first use; there are no static initialisers.

#include <tern/operator.hpp>

#include <vector>

namespace tern::detail {

/// Every built-in schema: the concatenation of the family lists below.
std::vector<OpSchema> builtin_schemas();

// One function per family file, each returning that file's schemas.
std::vector<OpSchema> conv_pool_schemas();     ///< conv_pool.cpp: Conv, MaxPool, AveragePool, GlobalAveragePool
std::vector<OpSchema> gemm_matmul_schemas();   ///< gemm_matmul.cpp: Gemm, MatMul
std::vector<OpSchema> elementwise_schemas();   ///< elementwise.cpp: activations, arithmetic, Identity, Dropout, Cast
std::vector<OpSchema> normalization_schemas(); ///< normalization.cpp: BatchNormalization, Softmax, LogSoftmax, Hardmax
std::vector<OpSchema> shape_op_schemas(); ///< shape_ops.cpp: Flatten, Reshape, Transpose, Concat, Pad, Expand, Tile
std::vector<OpSchema> math_schemas();     ///< math_ops.cpp: float functions (Tanh, Exp, Log, Sin, ...), Neg, Abs, Sign,
                                          ///< IsNaN, IsInf, Pow, Mod, Min, Max, Sum, Mean
std::vector<OpSchema> axes_op_schemas();  ///< axes_ops.cpp: Squeeze, Unsqueeze, Slice
std::vector<OpSchema> data_op_schemas();  ///< data_ops.cpp: Constant, Shape, Size, Gather, ConstantOfShape, Range
std::vector<OpSchema> resize_schemas();   ///< resize.cpp: Resize
std::vector<OpSchema> quantize_linear_schemas(); ///< quantize_linear.cpp: QuantizeLinear, DequantizeLinear
std::vector<OpSchema>
reduce_schemas(); ///< reduce_ops.cpp: ReduceSum, ReduceMean, ReduceMax, ... ReduceLogSumExp, ArgMax, ArgMin
std::vector<OpSchema>
logic_schemas(); ///< logic_ops.cpp: Equal, Greater, Less, GreaterOrEqual, LessOrEqual, Not, And, Or, Xor, Where
std::vector<OpSchema> requantize_schemas();   ///< requantize.cpp: Requantize, RequantizeAdd (integer execution, see
                                              ///< integer_affine.hpp)
std::vector<OpSchema> table_lookup_schemas(); ///< table_lookup.cpp: TableLookup (integer execution of functions)

} // namespace tern::detail
