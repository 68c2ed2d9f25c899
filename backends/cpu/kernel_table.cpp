// The cpu plugin's one registration file: its descriptor, its backend and its kernel
// table. Each row: op type, what each input position accepts (in the node's input order,
// absent optional inputs keeping their position: see tern/kernel.hpp), factory, and, for
// rows that run only some nodes of their op, the check that declines the others (the
// scheduler then asks the next backend of the user's list and reports why). The first
// row that fits wins. Nothing runs at load time; oneDNN's engine is made on the first
// kernel's first run.
#include <tern/plugin_export.hpp>

#include "cpu_backend.hpp"
#include "dnnl/dnnl_ops.hpp"
#include "native/native_ops.hpp"

namespace {

using tern::DataType;
using tern::KernelInput;
using tern::KernelSupport;

constexpr DataType f32 = DataType::Float32;
constexpr DataType f64 = DataType::Float64;
constexpr DataType i8 = DataType::Int8;
constexpr DataType u8 = DataType::UInt8;
constexpr DataType i16 = DataType::Int16;
constexpr DataType i32 = DataType::Int32;
constexpr DataType i64 = DataType::Int64;
constexpr DataType boolean = DataType::Bool;

/// Absent, or what `input` accepts.
constexpr KernelInput optional(KernelInput input) { return input.optional(); }
/// Any one of `types`.
constexpr KernelInput one_of(std::initializer_list<DataType> types) { return KernelInput::one_of(types); }
/// The dtype of input 0 (or 1), whatever it is.
constexpr KernelInput as_input_0 = KernelInput::same_as(0);
constexpr KernelInput as_input_1 = KernelInput::same_as(1);

// Dtype sets shared by several rows.
/// The elements the data-movement kernels copy (they move bytes, whatever the dtype).
constexpr KernelInput movable = one_of({f32, i64, i32, i8, u8, boolean});
/// The same with float64 (Where, Expand, Tile, Size).
constexpr KernelInput movable_or_f64 = one_of({f32, f64, i64, i32, i8, u8, boolean});
/// Shapes, indices, axes, starts/ends given as data.
constexpr KernelInput index = one_of({i64, i32});
/// The integer kernels' X (u8 or s8 activations).
constexpr KernelInput int8_x = one_of({u8, i8});
/// Every dtype with arithmetic (Mod, Min, Max).
constexpr KernelInput numeric = one_of({f32, f64, i8, u8, i16, i32, i64});
/// The reductions' data.
constexpr KernelInput f32_or_f64 = one_of({f32, f64});

/// Both checks; the first reason wins.
KernelSupport both(KernelSupport first, KernelSupport second) {
  return [first = std::move(first), second = std::move(second)](const tern::KernelQuery& query) {
    std::string reason = first(query);
    return reason.empty() ? second(query) : reason;
  };
}

std::vector<tern::KernelDef> kernel_table() {
  using namespace tern::cpu;
  const std::string onednn = "onednn", native = "native";
  return {
      // --- oneDNN primitives (backends/cpu/dnnl) ---------------------------------------
      // Conv (optional bias B), Gemm (optional C), MatMul, pooling; Conv and the pools take
      // 1-, 2- and 3-D inputs (X of rank 3 to 5) and decline the others
      {"Conv", {f32, f32, optional(f32)}, make_conv, conv_support, onednn},
      {"Gemm", {f32, f32, optional(f32)}, make_gemm, nullptr, onednn},
      {"MatMul", {f32, f32}, make_matmul, nullptr, onednn},
      {"MaxPool", {f32}, make_max_pool, pool_support, onednn},
      // the same on channels-last X and Y (the core's channels_last_ops writes them), with
      // an optional residual Z added before the activation (fuse_residual_adds)
      {"ConvChannelsLast", {f32, f32, optional(f32), optional(f32)}, make_conv_channels_last, conv_support, onednn},
      {"MaxPoolChannelsLast", {f32}, make_max_pool_channels_last, pool_support, onednn},
      {"GlobalAveragePoolChannelsLast", {f32}, make_global_average_pool_channels_last, pool_support, onednn},
      // the same on channel blocks (the core's channel_blocks writes them) and their edges
      {"ConvBlocked", {f32, f32, optional(f32), optional(f32)}, make_conv_blocked, blocked_support, onednn},
      {"MaxPoolBlocked", {f32}, make_max_pool_blocked, blocked_support, onednn},
      {"GlobalAveragePoolBlocked", {f32}, make_global_average_pool_blocked, blocked_support, onednn},
      {"ToChannelBlocks", {f32}, make_to_channel_blocks, channel_blocks_edge_support, onednn},
      {"FromChannelBlocks", {f32}, make_from_channel_blocks, channel_blocks_edge_support, onednn},
      {"AveragePool", {f32}, make_average_pool, pool_support, onednn},
      {"GlobalAveragePool", {f32}, make_global_average_pool, pool_support, onednn},
      // fused pairs (see core/src/scheduler.cpp): the first op's inputs, then the second's
      // others; the node the check sees is the second op, its producer the first
      {"Conv+MaxPool", {f32, f32, optional(f32)}, make_conv_max_pool, conv_max_pool_support, onednn},
      {"Add+Relu", {f32, f32}, make_add_relu, add_relu_support, onednn},
      {"Flatten+Gemm", {f32, f32, optional(f32)}, make_flatten_gemm, flatten_gemm_support, onednn},
      {"BatchNormalization", {f32, f32, f32, f32, f32}, make_batch_normalization, nullptr, onednn},
      {"Softmax", {f32}, make_softmax, nullptr, onednn},
      // binary arithmetic, numpy broadcasting
      {"Add", {f32, f32}, make_binary, nullptr, onednn},
      {"Sub", {f32, f32}, make_binary, nullptr, onednn},
      {"Mul", {f32, f32}, make_binary, nullptr, onednn},
      {"Div", {f32, f32}, make_binary, nullptr, onednn},
      // Concat: any number of inputs of one dtype (float32, int32, int8, uint8)
      {"Concat", {one_of({f32, i32, i8, u8}), as_input_0.repeated()}, make_concat, nullptr, onednn},
      // ... and by byte copies the dtypes oneDNN has no type for (int64: exporters' shapes)
      {"Concat", {one_of({i64, f64, boolean}), as_input_0.repeated()}, make_native_concat, nullptr, native},
      // activations and unary math (eltwise); Clip's min and max are each optional
      {"Relu", {f32}, make_eltwise, nullptr, onednn},
      {"LeakyRelu", {f32}, make_eltwise, nullptr, onednn},
      {"Clip", {f32, optional(f32), optional(f32)}, make_eltwise, nullptr, onednn},
      {"Sigmoid", {f32}, make_eltwise, nullptr, onednn},
      {"HardSigmoid", {f32}, make_eltwise, nullptr, onednn},
      {"HardSwish", {f32}, make_eltwise, nullptr, onednn},
      {"Tanh", {f32}, make_eltwise, nullptr, onednn},
      {"Exp", {f32}, make_eltwise, nullptr, onednn},
      {"Sqrt", {f32}, make_eltwise, nullptr, onednn},
      {"Abs", {f32}, make_eltwise, nullptr, onednn},
      {"Neg", {f32}, make_eltwise, nullptr, onednn},
      // --- native kernels (backends/cpu/native) ---------------------------------------
      // data movement (bytes, so any of `movable`); Reshape's shape int64 or int32,
      // Squeeze's axes optional and Unsqueeze's required (int64)
      {"Reshape", {movable, index}, make_copy, nullptr, native},
      {"Flatten", {movable}, make_copy, nullptr, native},
      {"Identity", {movable}, make_copy, nullptr, native},
      {"Squeeze", {movable, optional(i64)}, make_copy, nullptr, native},
      {"Unsqueeze", {movable, i64}, make_copy, nullptr, native},
      {"Transpose", {movable}, make_transpose, nullptr, native},
      // ConvTranspose: X, W, optional B (float32); 1-, 2- and 3-D
      {"ConvTranspose", {f32, f32, optional(f32)}, make_conv_transpose, nullptr, native},
      // and its integer form: int8/uint8 X, int8 W, optional int32 B; int32 sums out
      {"ConvTranspose", {int8_x, i8, optional(i32)}, make_conv_transpose, nullptr, native},
      // Dropout (inference): optional ratio (float32) and training_mode (bool)
      {"Dropout", {f32, optional(f32), optional(boolean)}, make_dropout, nullptr, native},
      // Pad: data (float32, int64, int32, int8, uint8), pads (int64), optional
      // constant_value (the data's dtype), optional axes (int64 or int32);
      // {data, pads, -, axes} gives axes without a constant_value
      {"Pad", {one_of({f32, i64, i32, i8, u8}), i64, optional(as_input_0), optional(index)}, make_pad, nullptr, native},
      // Cast from every Tern dtype (the target is attribute "to"); Round on float32
      {"Cast", {KernelInput::any()}, make_cast, nullptr, native},
      {"Round", {f32}, make_round, nullptr, native},
      // broadcasting math: Pow's exponent float32/int32/int64; Min, Max (any numeric dtype,
      // int64 shape clamps included), Sum, Mean (float32) of one or more inputs
      {"Pow", {f32, one_of({f32, i32, i64})}, make_pow, nullptr, native},
      {"Min", {numeric, as_input_0.repeated()}, make_min, nullptr, native},
      {"Max", {numeric, as_input_0.repeated()}, make_max, nullptr, native},
      {"Sum", {f32, KernelInput(f32).repeated()}, make_sum, nullptr, native},
      {"Mean", {f32, KernelInput(f32).repeated()}, make_mean, nullptr, native},
      // Shape, Gather (int64/int32 indices), Slice (starts, ends, optional axes, optional
      // steps: all int64 or all int32)
      {"Shape", {movable}, make_shape, nullptr, native},
      {"Gather", {movable, index}, make_gather, nullptr, native},
      {"Slice", {movable, index, as_input_1, optional(as_input_1), optional(as_input_1)}, make_slice, nullptr, native},
      // reductions (float32, float64); ReduceSum's axes are an optional int64 input
      {"ReduceSum", {f32_or_f64, optional(i64)}, make_reduce, nullptr, native},
      {"ReduceMean", {f32_or_f64}, make_reduce, nullptr, native},
      {"ReduceMax", {f32_or_f64}, make_reduce, nullptr, native},
      {"ReduceMin", {f32_or_f64}, make_reduce, nullptr, native},
      {"ReduceProd", {f32_or_f64}, make_reduce, nullptr, native},
      {"ReduceL1", {f32_or_f64}, make_reduce, nullptr, native},
      {"ReduceL2", {f32_or_f64}, make_reduce, nullptr, native},
      {"ReduceSumSquare", {f32_or_f64}, make_reduce, nullptr, native},
      {"ReduceLogSum", {f32_or_f64}, make_reduce, nullptr, native},
      {"ReduceLogSumExp", {f32_or_f64}, make_reduce, nullptr, native},
      // along one axis (float32): ArgMax/ArgMin (int64 out), LogSoftmax, Hardmax
      {"ArgMax", {f32}, make_arg_extreme, nullptr, native},
      {"ArgMin", {f32}, make_arg_extreme, nullptr, native},
      {"LogSoftmax", {f32}, make_log_softmax, nullptr, native},
      // LayerNormalization: X, Scale and optional B (float32)
      {"LayerNormalization", {f32, f32, optional(f32)}, make_layer_normalization, nullptr, native},
      {"Hardmax", {f32}, make_hardmax, nullptr, native},
      // float32 functions of one input (unary.cpp's tables)
      {"Log", {f32}, make_unary, nullptr, native},
      {"Reciprocal", {f32}, make_unary, nullptr, native},
      {"Floor", {f32}, make_unary, nullptr, native},
      {"Ceil", {f32}, make_unary, nullptr, native},
      {"Sign", {f32}, make_unary, nullptr, native},
      {"Erf", {f32}, make_unary, nullptr, native},
      {"Softplus", {f32}, make_unary, nullptr, native},
      {"Softsign", {f32}, make_unary, nullptr, native},
      {"Elu", {f32}, make_unary, nullptr, native},
      {"Selu", {f32}, make_unary, nullptr, native},
      {"ThresholdedRelu", {f32}, make_unary, nullptr, native},
      {"Sin", {f32}, make_unary, nullptr, native},
      {"Cos", {f32}, make_unary, nullptr, native},
      {"Tan", {f32}, make_unary, nullptr, native},
      {"Asin", {f32}, make_unary, nullptr, native},
      {"Acos", {f32}, make_unary, nullptr, native},
      {"Atan", {f32}, make_unary, nullptr, native},
      {"Sinh", {f32}, make_unary, nullptr, native},
      {"Cosh", {f32}, make_unary, nullptr, native},
      {"Asinh", {f32}, make_unary, nullptr, native},
      {"Acosh", {f32}, make_unary, nullptr, native},
      {"Atanh", {f32}, make_unary, nullptr, native},
      {"IsNaN", {f32}, make_float_class, nullptr, native},
      {"IsInf", {f32}, make_float_class, nullptr, native},
      // comparisons of two tensors of one dtype (float32, int32, int64; Equal also bool)
      // and logic on bool, broadcasting
      {"Equal", {one_of({f32, i32, i64, boolean}), as_input_0}, make_compare, nullptr, native},
      {"Greater", {one_of({f32, i32, i64}), as_input_0}, make_compare, nullptr, native},
      {"Less", {one_of({f32, i32, i64}), as_input_0}, make_compare, nullptr, native},
      {"GreaterOrEqual", {one_of({f32, i32, i64}), as_input_0}, make_compare, nullptr, native},
      {"LessOrEqual", {one_of({f32, i32, i64}), as_input_0}, make_compare, nullptr, native},
      {"Not", {boolean}, make_not, nullptr, native},
      {"And", {boolean, boolean}, make_and, nullptr, native},
      {"Or", {boolean, boolean}, make_or, nullptr, native},
      {"Xor", {boolean, boolean}, make_xor, nullptr, native},
      // Where: bool condition, then two tensors of one dtype
      {"Where", {boolean, movable_or_f64, as_input_1}, make_where, nullptr, native},
      // Mod on every numeric dtype, both inputs alike
      {"Mod", {numeric, as_input_0}, make_mod, nullptr, native},
      // Add, Sub, Mul on int32 or int64, both inputs alike, wrapping around on overflow
      // (the int32 sums of quantized residual Adds); Div truncating (exporters' shape
      // arithmetic, e.g. channels / groups)
      {"Add", {one_of({i32, i64}), as_input_0}, make_integer_arithmetic, nullptr, native},
      {"Sub", {one_of({i32, i64}), as_input_0}, make_integer_arithmetic, nullptr, native},
      {"Mul", {one_of({i32, i64}), as_input_0}, make_integer_arithmetic, nullptr, native},
      {"Div", {one_of({i32, i64}), as_input_0}, make_integer_arithmetic, nullptr, native},
      // Expand (int64 shape), Tile (int64 repeats), Size: any data dtype
      {"Expand", {movable_or_f64, i64}, make_expand, nullptr, native},
      {"Tile", {movable_or_f64, i64}, make_tile, nullptr, native},
      {"Size", {movable_or_f64}, make_size, nullptr, native},
      // ConstantOfShape: an int64 shape; Range: three scalars of the output dtype
      {"ConstantOfShape", {i64}, make_constant_of_shape, nullptr, native},
      {"Range", {one_of({f32, f64, i16, i32, i64}), as_input_0, as_input_0}, make_range, nullptr, native},
      // Resize: X (float32, or the 8-bit integers of a quantized network), then roi
      // (float32), scales (float32) and sizes (int64), each optional
      {"Resize", {one_of({f32, i8, u8}), optional(f32), optional(f32), optional(i64)}, make_resize, nullptr, native},
      {"Constant", {}, make_constant, nullptr, native},
      // QuantizeLinear: x, scale, optional zero point (int8/uint8); DequantizeLinear: x
      // (int8/uint8/int32), scale, optional zero point of x's dtype
      {"QuantizeLinear", {f32, f32, optional(one_of({i8, u8}))}, make_quantize_linear, nullptr, native},
      {"DequantizeLinear", {one_of({i8, u8, i32}), f32, optional(as_input_0)}, make_dequantize_linear, nullptr, native},
      // --- integer execution (the core's integer_affine.hpp) ---------------------------
      // Conv/Gemm/MatMul: int8 or uint8 X, int8 W, optional int32 bias (not MatMul).
      // oneDNN's int8 primitives where they are exact (VNNI), the native kernels otherwise.
      {"Conv", {int8_x, i8, optional(i32)}, make_integer_conv, both(conv_support, int8_primitives_support), onednn},
      {"Conv", {int8_x, i8, optional(i32)}, make_native_integer_conv, conv_support, native},
      // the same on channels-last X and Y (the core's channels_last_ops writes it)
      {"ConvChannelsLast",
       {int8_x, i8, optional(i32)},
       make_integer_conv_channels_last,
       both(conv_support, int8_primitives_support),
       onednn},
      {"Gemm", {int8_x, i8, optional(i32)}, make_integer_gemm, int8_primitives_support, onednn},
      {"Gemm", {int8_x, i8, optional(i32)}, make_native_integer_gemm, nullptr, native},
      {"MatMul", {int8_x, i8}, make_integer_matmul, int8_primitives_support, onednn},
      {"MatMul", {int8_x, i8}, make_native_integer_matmul, nullptr, native},
      {"Requantize", {one_of({f32, i32, i8, u8})}, make_requantize, nullptr, native},
      {"RequantizeAdd", {int8_x, int8_x}, make_requantize_add, nullptr, native},
      {"TableLookup", {int8_x, one_of({i8, u8, i32})}, make_table_lookup, nullptr, native},
      {"MaxPool", {int8_x}, make_integer_max_pool, pool_support, native},
      {"MaxPoolChannelsLast", {int8_x}, make_integer_max_pool_channels_last, pool_support, native},
      {"Relu", {int8_x}, make_integer_relu, nullptr, native},
      // --- the PTQ's statistics (the reference for the "cuda" plugin's kernels) ----------
      {"PtqRange", {f32}, make_ptq_range, nullptr, native},
      {"PtqHistogram", {f32, f64}, make_ptq_histogram, nullptr, native},
      {"PtqFakeQuantize", {f32}, make_ptq_fake_quantize, nullptr, native},
  };
}

void register_cpu(tern::PluginContext& context) {
  context.add_backend(std::make_shared<tern::cpu::CpuBackend>());
  context.add_kernels("cpu", kernel_table());
}

} // namespace

TERN_PLUGIN("cpu", TERN_VERSION_STRING, "CPU backend: oneDNN primitives and native kernels", tern::PluginKind::Backend,
            nullptr, register_cpu)
