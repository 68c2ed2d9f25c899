// Elementwise kernels with numpy broadcasting: Pow (float32 base, exponent of any numeric
// type), Mod (every numeric type), Add/Sub/Mul/Div on int32 and int64, and the variadic Min
// and Max (every numeric type), Sum and Mean (float32). The index math lives in broadcast.hpp.
#include "native/broadcast.hpp"
#include "native/native_ops.hpp"

#include <cmath>
#include <functional>
#include <type_traits>

namespace tern::cpu {
namespace {

/// Folds every input into the output with `combine`, then applies `finish(value, count)`;
/// inputs and output must all be of `type`, stored as T.
template <class T, class Combine, class Finish> void fold(const Node& node, DataType type,
                                                          std::span<const Tensor> inputs, std::span<Tensor> outputs,
                                                          Combine combine, Finish finish) {
  native::require(node, !inputs.empty() && outputs.size() == 1, "expected at least one input and one output");
  native::require_dtype(node, outputs[0], type, "output");
  std::vector<const T*> data;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    native::require(node, inputs[k].defined(), "input " + std::to_string(k) + " is absent");
    native::require_dtype(node, inputs[k], type, "input " + std::to_string(k));
    data.push_back(inputs[k].data<T>());
  }
  const native::Broadcast plan(node, native::shapes_of(inputs), outputs[0].shape());
  T* out = outputs[0].data<T>();
  const std::size_t count = inputs.size();
  plan.for_each_row([&](std::int64_t row) {
    T* target = out + row * plan.row_length();
    const T* first = data[0] + plan.row_offset(0, row);
    for (std::int64_t i = 0; i < plan.row_length(); ++i) target[i] = first[i * plan.row_step(0)];
    for (std::size_t k = 1; k < data.size(); ++k) {
      const T* source = data[k] + plan.row_offset(k, row);
      const std::int64_t step = plan.row_step(k);
      for (std::int64_t i = 0; i < plan.row_length(); ++i) target[i] = combine(target[i], source[i * step]);
    }
    for (std::int64_t i = 0; i < plan.row_length(); ++i) target[i] = finish(target[i], count);
  });
}

constexpr auto unchanged = [](auto value, std::size_t) { return value; };

/// Min (Maximum false) or Max of any numeric dtype (exporters clamp int64 shapes with them).
/// NaN wins, as in numpy's minimum/maximum (the ONNX reference).
template <bool Maximum> void extreme(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require(node, outputs.size() == 1, "expected one output");
  dispatch(outputs[0].dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
      fold<T>(
          node, outputs[0].dtype(), inputs, outputs,
          [](T a, T b) {
            if constexpr (std::is_floating_point_v<T>)
              if (std::isnan(a)) return a;
            return (Maximum ? a >= b : a <= b) ? a : b;
          },
          unchanged);
    } else {
      native::fail(node, std::string(Maximum ? "Max" : "Min") + " is not defined on " +
                             std::string(name(outputs[0].dtype())));
    }
  });
}
void sum_f32(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  fold<float>(
      node, DataType::Float32, inputs, outputs, [](float a, float b) { return a + b; }, unchanged);
}
void mean_f32(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  fold<float>(
      node, DataType::Float32, inputs, outputs, [](float a, float b) { return a + b; },
      [](float sum, std::size_t n) { return sum / static_cast<float>(n); });
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

// Add, Sub, Mul, Div (`Op`) on int32 or int64, both inputs alike. Overflow wraps around, as in ONNX
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

/// Div on int32 or int64 truncates toward zero, as ONNX's reference (numpy's quotient cast
/// back) and ONNX Runtime (C++'s /) do; exporters write it for shape arithmetic such as
/// channels / groups. The two quotients C++ leaves undefined (x86 traps on both) get defined
/// results instead of a crash: a zero divisor gives 0, as Mod does, and minimum / -1 wraps
/// around to the minimum, as the wrapping Mul by -1 does.
struct TruncatingDivision {
  template <class U> U operator()(U a, U b) const {
    using T = std::make_signed_t<U>;
    const auto x = static_cast<T>(a), y = static_cast<T>(b);
    if (y == 0) return U{0};
    if (y == -1) return static_cast<U>(U{0} - a);
    return static_cast<U>(x / y);
  }
};

} // namespace

std::unique_ptr<Kernel> make_integer_arithmetic(const Node& node) {
  const std::string& op = node.op_type();
  if (op == "Add") return native::stateless_kernel(node, wrapping_arithmetic<std::plus<>>);
  if (op == "Sub") return native::stateless_kernel(node, wrapping_arithmetic<std::minus<>>);
  if (op == "Div") return native::stateless_kernel(node, wrapping_arithmetic<TruncatingDivision>);
  native::require(node, op == "Mul", "integer arithmetic is Add, Sub, Mul or Div, not " + op);
  return native::stateless_kernel(node, wrapping_arithmetic<std::multiplies<>>);
}
std::unique_ptr<Kernel> make_pow(const Node& node) { return native::stateless_kernel(node, pow_f32); }
std::unique_ptr<Kernel> make_min(const Node& node) { return native::stateless_kernel(node, extreme<false>); }
std::unique_ptr<Kernel> make_max(const Node& node) { return native::stateless_kernel(node, extreme<true>); }
std::unique_ptr<Kernel> make_sum(const Node& node) { return native::stateless_kernel(node, sum_f32); }
std::unique_ptr<Kernel> make_mean(const Node& node) { return native::stateless_kernel(node, mean_f32); }
std::unique_ptr<Kernel> make_mod(const Node& node) { return std::make_unique<ModKernel>(node); }

} // namespace tern::cpu
