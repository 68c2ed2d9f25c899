// Elementwise kernels with numpy broadcasting: Pow (float32 base, exponent of any numeric
// type), Mod (every numeric type), Add/Sub/Mul on int32 and int64, and the variadic float32
// Min, Max, Sum, Mean. The index math lives in broadcast.hpp.
#include "native/broadcast.hpp"
#include "native/native_ops.hpp"

#include <cmath>
#include <functional>
#include <type_traits>

namespace tern::cpu {
namespace {

/// Folds every input into the output with `combine`, then applies `finish(value, count)`.
template <class Combine, class Finish> void fold_f32(const Node& node, std::span<const Tensor> inputs,
                                                     std::span<Tensor> outputs, Combine combine, Finish finish) {
  native::require(node, !inputs.empty() && outputs.size() == 1, "expected at least one input and one output");
  std::vector<const float*> data;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    native::require(node, inputs[k].defined(), "input " + std::to_string(k) + " is absent");
    native::require_dtype(node, inputs[k], DataType::Float32, "input " + std::to_string(k));
    data.push_back(inputs[k].data<float>());
  }
  native::require_dtype(node, outputs[0], DataType::Float32, "output");
  const native::Broadcast plan(node, native::shapes_of(inputs), outputs[0].shape());
  float* out = outputs[0].data<float>();
  const auto count = static_cast<float>(inputs.size());
  plan.for_each_row([&](std::int64_t row) {
    float* target = out + row * plan.row_length();
    const float* first = data[0] + plan.row_offset(0, row);
    for (std::int64_t i = 0; i < plan.row_length(); ++i) target[i] = first[i * plan.row_step(0)];
    for (std::size_t k = 1; k < data.size(); ++k) {
      const float* source = data[k] + plan.row_offset(k, row);
      const std::int64_t step = plan.row_step(k);
      for (std::int64_t i = 0; i < plan.row_length(); ++i) target[i] = combine(target[i], source[i * step]);
    }
    for (std::int64_t i = 0; i < plan.row_length(); ++i) target[i] = finish(target[i], count);
  });
}

constexpr auto unchanged = [](float value, float) { return value; };

// NaN wins, as in numpy's minimum/maximum (the ONNX reference).
void min_f32(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  fold_f32(
      node, inputs, outputs, [](float a, float b) { return std::isnan(a) || a <= b ? a : b; }, unchanged);
}
void max_f32(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  fold_f32(
      node, inputs, outputs, [](float a, float b) { return std::isnan(a) || a >= b ? a : b; }, unchanged);
}
void sum_f32(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  fold_f32(
      node, inputs, outputs, [](float a, float b) { return a + b; }, unchanged);
}
void mean_f32(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  fold_f32(
      node, inputs, outputs, [](float a, float b) { return a + b; }, [](float sum, float n) { return sum / n; });
}

// The exponent may be float32, int32 or int64 (ONNX's T1); it is read as its own type and
// the power computed in double, so integer exponents are exact.
void pow_f32(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 2, 2, 1, 1);
  native::require_dtype(node, inputs[0], DataType::Float32, "the base");
  native::require_dtype(node, outputs[0], DataType::Float32, "output");
  const DataType exponent_type = inputs[1].dtype();
  native::require(
      node, exponent_type == DataType::Float32 || exponent_type == DataType::Int32 || exponent_type == DataType::Int64,
      "the exponent is " + std::string(name(exponent_type)) + ", expected float32, int32 or int64");
  dispatch(exponent_type, [&](auto tag) {
    using E = typename decltype(tag)::type;
    if constexpr (std::is_arithmetic_v<E> && !std::is_same_v<E, bool>)
      native::broadcast_map<float, float, E>(node, inputs, outputs[0], [](float base, E exponent) {
        return static_cast<float>(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
      });
  });
}

// Mod on every numeric dtype. Integer fmod=0 takes the divisor's sign (Python %); fmod=1,
// and floats, C's remainder (the dividend's sign). An integer divisor of 0 gives 0, as numpy
// (ONNX's reference) does, instead of C++'s undefined behaviour.
class ModKernel final : public Kernel {
public:
  explicit ModKernel(const Node& node) : node_(node), fmod_(node.attr<std::int64_t>("fmod") != 0) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 2, 2, 1, 1);
    const DataType type = inputs[0].dtype();
    native::require_dtype(node_, inputs[1], type, "input 1");
    native::require_dtype(node_, outputs[0], type, "output");
    dispatch(type, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_floating_point_v<T>) {
        native::broadcast_map<T, T, T>(node_, inputs, outputs[0], [](T a, T b) { return std::fmod(a, b); });
      } else if constexpr (!std::is_same_v<T, bool>) {
        const bool c_style = fmod_;
        native::broadcast_map<T, T, T>(node_, inputs, outputs[0], [c_style](T a, T b) {
          if (b == 0) return T{0};
          const auto r = static_cast<T>(a % b);
          return !c_style && r != 0 && (r < 0) != (b < 0) ? static_cast<T>(r + b) : r;
        });
      } else {
        native::fail(node_, "Mod is not defined on bool");
      }
    });
  }

private:
  const Node& node_;
  bool fmod_;
};

// Add, Sub, Mul (`Op`) on int32 or int64, both inputs alike. Overflow wraps around, as in ONNX
// Runtime: the operation runs on the unsigned type of the same width, where wrapping is
// defined (signed overflow is undefined behaviour in C++), and converts back modulo 2^n.
template <class Op>
void wrapping_arithmetic(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 2, 2, 1, 1);
  const DataType type = inputs[0].dtype();
  native::require(node, type == DataType::Int32 || type == DataType::Int64,
                  "input 0 is " + std::string(name(type)) + ", expected int32 or int64");
  native::require_dtype(node, inputs[1], type, "input 1");
  native::require_dtype(node, outputs[0], type, "output");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int64_t>) {
      using U = std::make_unsigned_t<T>;
      native::broadcast_map<T, T, T>(node, inputs, outputs[0], [](T a, T b) {
        return static_cast<T>(Op{}(static_cast<U>(a), static_cast<U>(b)));
      });
    }
  });
}

} // namespace

std::unique_ptr<Kernel> make_integer_arithmetic(const Node& node) {
  const std::string& op = node.op_type();
  if (op == "Add") return native::stateless_kernel(node, wrapping_arithmetic<std::plus<>>);
  if (op == "Sub") return native::stateless_kernel(node, wrapping_arithmetic<std::minus<>>);
  native::require(node, op == "Mul", "integer arithmetic is Add, Sub or Mul, not " + op);
  return native::stateless_kernel(node, wrapping_arithmetic<std::multiplies<>>);
}
std::unique_ptr<Kernel> make_pow(const Node& node) { return native::stateless_kernel(node, pow_f32); }
std::unique_ptr<Kernel> make_min(const Node& node) { return native::stateless_kernel(node, min_f32); }
std::unique_ptr<Kernel> make_max(const Node& node) { return native::stateless_kernel(node, max_f32); }
std::unique_ptr<Kernel> make_sum(const Node& node) { return native::stateless_kernel(node, sum_f32); }
std::unique_ptr<Kernel> make_mean(const Node& node) { return native::stateless_kernel(node, mean_f32); }
std::unique_ptr<Kernel> make_mod(const Node& node) { return std::make_unique<ModKernel>(node); }

} // namespace tern::cpu
