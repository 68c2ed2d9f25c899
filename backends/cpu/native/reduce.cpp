// The reductions over axes (float32 and float64): ReduceSum (opset 13: axes as optional
// input 1, noop_with_empty_axes), ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1,
// ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp (axes attribute); all axes when
// none are given, keepdims. One kernel walks the elements; a table says what each op does
// with them.
#include "native/common.hpp"
#include "native/native_ops.hpp"

#include <cmath>
#include <limits>
#include <string_view>

namespace tern::cpu {
namespace {

/// What one reduction computes: acc = step(acc, x) from `init` over the reduced elements,
/// then finish(acc, count). With `shift_by_max`, x is first lowered by the maximum of the
/// elements (added back after finish), so that exp() cannot overflow (LogSumExp).
struct Reduction {
  std::string_view op_type;
  double init;
  double (*step)(double acc, double x);
  double (*finish)(double acc, double count);
  bool shift_by_max = false;
};

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr auto add = [](double acc, double x) { return acc + x; };
constexpr auto add_square = [](double acc, double x) { return acc + x * x; };
constexpr auto as_is = [](double acc, double) { return acc; };
// NaN wins, as in numpy's max/min (the ONNX reference).
constexpr auto larger = [](double acc, double x) { return std::isnan(acc) || acc >= x ? acc : x; };
constexpr auto smaller = [](double acc, double x) { return std::isnan(acc) || acc <= x ? acc : x; };

constexpr Reduction reductions[] = {
    {"ReduceSum", 0.0, add, as_is},
    // 0/0 over no elements: NaN, like numpy's mean of nothing
    {"ReduceMean", 0.0, add, [](double sum, double count) { return sum / count; }},
    {"ReduceMax", -infinity, larger, as_is},
    {"ReduceMin", infinity, smaller, as_is},
    {"ReduceProd", 1.0, [](double acc, double x) { return acc * x; }, as_is},
    {"ReduceL1", 0.0, [](double acc, double x) { return acc + std::abs(x); }, as_is},
    {"ReduceL2", 0.0, add_square, [](double sum, double) { return std::sqrt(sum); }},
    {"ReduceSumSquare", 0.0, add_square, as_is},
    {"ReduceLogSum", 0.0, add, [](double sum, double) { return std::log(sum); }},
    {"ReduceLogSumExp", 0.0, [](double acc, double x) { return acc + std::exp(x); },
     [](double sum, double) { return std::log(sum); }, true},
};

const Reduction& reduction_of(const Node& node) {
  for (const Reduction& r : reductions)
    if (r.op_type == node.op_type()) return r;
  native::fail(node, node.op_type() + " is not a reduction the cpu backend knows");
}

class ReduceKernel final : public Kernel {
public:
  explicit ReduceKernel(const Node& node)
      : node_(node), op_(reduction_of(node)), keepdims_(node.attr<std::int64_t>("keepdims") != 0),
        noop_with_empty_axes_(node.attrs().get_or<std::int64_t>("noop_with_empty_axes", 0) != 0) {
    if (node.attrs().has("axes")) axes_ = node.attrs().get<std::vector<std::int64_t>>("axes");
  }

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 2, 1, 1);
    const DataType type = inputs[0].dtype();
    native::require(node_, type == DataType::Float32 || type == DataType::Float64,
                    "input is " + std::string(name(type)) + ", expected float32 or float64");
    native::require_dtype(node_, outputs[0], type, "output");
    // Opset 13 ReduceSum's axes arrive as data, the other reductions' as the attribute.
    const bool axes_input = inputs.size() > 1 && inputs[1].defined();
    const std::vector<std::int64_t> axes = axes_input ? native::index_values(node_, inputs[1], "axes") : axes_;
    if (type == DataType::Float32)
      reduce<float>(inputs[0], outputs[0], axes);
    else
      reduce<double>(inputs[0], outputs[0], axes);
  }

private:
  template <class T> void reduce(const Tensor& x, Tensor& y, const std::vector<std::int64_t>& axes) const {
    const Shape& shape = x.shape();
    const std::size_t rank = shape.rank();
    std::vector<bool> reduced(rank, axes.empty() && !noop_with_empty_axes_);
    for (const std::int64_t axis : axes) reduced[native::normalize_axis(node_, axis, rank, "axis")] = true;

    // Kept axes address the output, reduced axes the elements folded into one output.
    const std::vector<std::int64_t> strides = native::strides_of(shape);
    std::vector<std::int64_t> dims, kept_sizes, kept_strides, reduced_sizes, reduced_strides;
    std::int64_t count = 1;
    for (std::size_t d = 0; d < rank; ++d) {
      if (reduced[d]) {
        reduced_sizes.push_back(shape[d]);
        reduced_strides.push_back(strides[d]);
        count *= shape[d];
        if (keepdims_) dims.push_back(1);
      } else {
        kept_sizes.push_back(shape[d]);
        kept_strides.push_back(strides[d]);
        dims.push_back(shape[d]);
      }
    }
    native::require_shape(node_, y.shape(), Shape(dims), "output");

    const T* in = static_cast<const T*>(x.raw());
    T* out = static_cast<T*>(y.raw());
    const std::int64_t outputs_count = y.numel();
    // The innermost reduced axis is walked by a plain strided loop; the others by index math.
    const std::int64_t inner = reduced_sizes.empty() ? 1 : reduced_sizes.back();
    const std::int64_t inner_stride = reduced_strides.empty() ? 0 : reduced_strides.back();
    const std::int64_t outer = inner == 0 ? 0 : count / inner;
    const std::size_t outer_axes = reduced_sizes.empty() ? 0 : reduced_sizes.size() - 1;
    const Reduction& op = op_;
#pragma omp parallel for if (x.numel() > (1 << 16))
    for (std::int64_t o = 0; o < outputs_count; ++o) {
      std::int64_t base = 0, rest = o;
      for (std::size_t k = kept_sizes.size(); k-- > 0;) {
        base += rest % kept_sizes[k] * kept_strides[k];
        rest /= kept_sizes[k];
      }
      // Calls fold(acc, x) on every element reduced into output o, in double so that long
      // reductions of float32 keep their precision.
      const auto fold = [&](double acc, auto combine) {
        for (std::int64_t r = 0; r < outer; ++r) {
          std::int64_t offset = base, left = r;
          for (std::size_t k = outer_axes; k-- > 0;) {
            offset += left % reduced_sizes[k] * reduced_strides[k];
            left /= reduced_sizes[k];
          }
          for (std::int64_t i = 0; i < inner; ++i)
            acc = combine(acc, static_cast<double>(in[offset + i * inner_stride]));
        }
        return acc;
      };
      double shift = op.shift_by_max ? fold(-infinity, larger) : 0.0;
      if (!std::isfinite(shift)) shift = 0.0; // all -inf (or a NaN): nothing to gain, keep inf - inf out
      const double acc = fold(op.init, [&](double a, double v) { return op.step(a, v - shift); });
      out[o] = static_cast<T>(op.finish(acc, static_cast<double>(count)) + shift);
    }
  }

  const Node& node_;
  const Reduction& op_;
  bool keepdims_;
  bool noop_with_empty_axes_;
  std::vector<std::int64_t> axes_;
};

} // namespace

std::unique_ptr<Kernel> make_reduce(const Node& node) { return std::make_unique<ReduceKernel>(node); }

} // namespace tern::cpu
