// Table-driven float32 elementwise functions of one input: one kernel, one row per op type
// giving y = f(x, attributes). Two tables: float -> float functions (Log, Erf, Sin, Elu,
// ...), and float -> bool classifiers (IsNaN, IsInf).
#include "native/common.hpp"
#include "native/native_ops.hpp"

#include <tern/operator.hpp>

#include <cmath>
#include <string_view>
#include <type_traits>

namespace tern::cpu {
namespace {

/// The attributes a function may read, fetched once when the kernel is made.
struct Params {
  float alpha = 0.0f;
  float gamma = 0.0f;
  bool detect_negative = true;
  bool detect_positive = true;
};

template <class Out> struct UnaryOp {
  std::string_view op_type;
  Out (*fn)(float x, const Params& p);
};

float elu(float x, float alpha) { return x < 0.0f ? alpha * std::expm1(x) : x; }

constexpr UnaryOp<float> functions[] = {
    {"Log", [](float x, const Params&) { return std::log(x); }},
    {"Reciprocal", [](float x, const Params&) { return 1.0f / x; }},
    {"Floor", [](float x, const Params&) { return std::floor(x); }},
    {"Ceil", [](float x, const Params&) { return std::ceil(x); }},
    // NaN stays NaN (numpy's sign)
    {"Sign", [](float x, const Params&) { return x > 0.0f   ? 1.0f
                                                 : x < 0.0f ? -1.0f
                                                            : x; }},
    {"Erf", [](float x, const Params&) { return std::erf(x); }},
    // log1p(exp(x)) overflows for large x, where softplus(x) is x to float precision
    {"Softplus", [](float x, const Params&) { return x > 30.0f ? x : std::log1p(std::exp(x)); }},
    {"Softsign", [](float x, const Params&) { return x / (1.0f + std::abs(x)); }},
    {"Elu", [](float x, const Params& p) { return elu(x, p.alpha); }},
    {"Selu", [](float x, const Params& p) { return p.gamma * elu(x, p.alpha); }},
    {"ThresholdedRelu", [](float x, const Params& p) { return x > p.alpha ? x : 0.0f; }},
    {"Sin", [](float x, const Params&) { return std::sin(x); }},
    {"Cos", [](float x, const Params&) { return std::cos(x); }},
    {"Tan", [](float x, const Params&) { return std::tan(x); }},
    {"Asin", [](float x, const Params&) { return std::asin(x); }},
    {"Acos", [](float x, const Params&) { return std::acos(x); }},
    {"Atan", [](float x, const Params&) { return std::atan(x); }},
    {"Sinh", [](float x, const Params&) { return std::sinh(x); }},
    {"Cosh", [](float x, const Params&) { return std::cosh(x); }},
    {"Asinh", [](float x, const Params&) { return std::asinh(x); }},
    {"Acosh", [](float x, const Params&) { return std::acosh(x); }},
    {"Atanh", [](float x, const Params&) { return std::atanh(x); }},
};

constexpr UnaryOp<bool> classifiers[] = {
    {"IsNaN", [](float x, const Params&) { return std::isnan(x); }},
    {"IsInf",
     [](float x, const Params& p) { return std::isinf(x) && (x > 0.0f ? p.detect_positive : p.detect_negative); }},
};

/// Reads the attributes `node`'s schema declares (the others keep their zero values).
Params params_of(const Node& node) {
  const OpSchema& op = schema(node.op_type());
  Params p;
  if (op.attribute("alpha") != nullptr) p.alpha = static_cast<float>(node.attr<double>("alpha"));
  if (op.attribute("gamma") != nullptr) p.gamma = static_cast<float>(node.attr<double>("gamma"));
  if (op.attribute("detect_negative") != nullptr) p.detect_negative = node.attr<std::int64_t>("detect_negative") != 0;
  if (op.attribute("detect_positive") != nullptr) p.detect_positive = node.attr<std::int64_t>("detect_positive") != 0;
  return p;
}

template <class Out> class UnaryKernel final : public Kernel {
public:
  template <std::size_t N> UnaryKernel(const Node& node, const UnaryOp<Out> (&table)[N])
      : node_(node), params_(params_of(node)) {
    for (const UnaryOp<Out>& op : table)
      if (op.op_type == node.op_type()) fn_ = op.fn;
    native::require(node, fn_ != nullptr, node.op_type() + " is not an elementwise function the cpu backend knows");
  }

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 1, 1, 1);
    native::require_dtype(node_, inputs[0], DataType::Float32, "input");
    native::require_dtype(node_, outputs[0], std::is_same_v<Out, bool> ? DataType::Bool : DataType::Float32, "output");
    native::require_shape(node_, outputs[0].shape(), inputs[0].shape(), "output");
    const float* in = inputs[0].data<float>();
    Out* out = outputs[0].data<Out>();
    const std::int64_t count = inputs[0].numel();
    const auto fn = fn_;
    const Params& p = params_;
#pragma omp parallel for if (count > (1 << 16))
    for (std::int64_t i = 0; i < count; ++i) out[i] = fn(in[i], p);
  }

private:
  const Node& node_;
  Params params_;
  Out (*fn_)(float, const Params&) = nullptr;
};

} // namespace

std::unique_ptr<Kernel> make_unary(const Node& node) { return std::make_unique<UnaryKernel<float>>(node, functions); }
std::unique_ptr<Kernel> make_float_class(const Node& node) {
  return std::make_unique<UnaryKernel<bool>>(node, classifiers);
}

} // namespace tern::cpu
