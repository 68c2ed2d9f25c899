// Float32 kernels that work along one axis: ArgMax, ArgMin (int64 indices; ties go to the
// first index, or the last with select_last_index) and, with opset 13 axis semantics,
// LogSoftmax and Hardmax. The tensor is seen as [outer, axis size, inner]; every
// (outer, inner) pair is one independent line along the axis.
#include "native/common.hpp"
#include "native/native_ops.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tern::cpu {
namespace {

/// The [outer, size, inner] view of `shape` around `axis`.
struct AxisLines {
  AxisLines(const Shape& shape, std::size_t axis) : size(shape[axis]) {
    for (std::size_t d = 0; d < axis; ++d) outer *= shape[d];
    for (std::size_t d = axis + 1; d < shape.rank(); ++d) inner *= shape[d];
  }
  std::int64_t outer = 1;
  std::int64_t size;
  std::int64_t inner = 1;

  /// Calls fn(first, stride) for each line: element k of it is at first + k * stride.
  template <class Fn> void for_each(Fn&& fn) const {
#pragma omp parallel for if (outer * size * inner > (1 << 16))
    for (std::int64_t line = 0; line < outer * inner; ++line) fn(line / inner * size * inner + line % inner, inner);
  }
};

/// The axis attribute of `node`, resolved against `rank`.
std::size_t axis_of(const Node& node, std::size_t rank) {
  return native::normalize_axis(node, node.attr<std::int64_t>("axis"), rank, "attribute 'axis'");
}

class ArgExtremeKernel final : public Kernel {
public:
  explicit ArgExtremeKernel(const Node& node)
      : node_(node), maximum_(node.op_type() == "ArgMax"), keepdims_(node.attr<std::int64_t>("keepdims") != 0),
        last_(node.attr<std::int64_t>("select_last_index") != 0) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 1, 1, 1);
    const Tensor& x = inputs[0];
    native::require_dtype(node_, x, DataType::Float32, "input");
    native::require_dtype(node_, outputs[0], DataType::Int64, "output");
    const std::size_t axis = axis_of(node_, x.shape().rank());
    std::vector<std::int64_t> dims = x.shape().dims();
    if (keepdims_)
      dims[axis] = 1;
    else
      dims.erase(dims.begin() + static_cast<std::ptrdiff_t>(axis));
    native::require_shape(node_, outputs[0].shape(), Shape(dims), "output");
    const AxisLines lines(x.shape(), axis);
    native::require(node_, lines.size > 0 || x.numel() == 0, "cannot take an index along an empty axis");
    const float* in = x.data<float>();
    std::int64_t* out = outputs[0].data<std::int64_t>();
    const bool maximum = maximum_, last = last_;
    lines.for_each([&](std::int64_t first, std::int64_t stride) {
      std::int64_t best = 0;
      for (std::int64_t k = 1; k < lines.size; ++k) {
        const float candidate = in[first + k * stride], current = in[first + best * stride];
        const bool better = maximum ? candidate > current : candidate < current;
        if (better || (last && candidate == current)) best = k;
      }
      // The output drops (or keeps as 1) the axis, so line (o, i) lands at o * inner + i.
      out[first / (lines.size * lines.inner) * lines.inner + first % lines.inner] = best;
    });
  }

private:
  const Node& node_;
  bool maximum_;
  bool keepdims_;
  bool last_;
};

/// LogSoftmax: x - max - log(sum(exp(x - max))), the max keeping exp() in range.
void log_softmax_line(const float* in, float* out, std::int64_t size, std::int64_t stride) {
  float peak = -std::numeric_limits<float>::infinity();
  for (std::int64_t k = 0; k < size; ++k) peak = std::max(peak, in[k * stride]);
  double sum = 0.0;
  for (std::int64_t k = 0; k < size; ++k) sum += std::exp(static_cast<double>(in[k * stride] - peak));
  const auto log_sum = static_cast<float>(std::log(sum));
  for (std::int64_t k = 0; k < size; ++k) out[k * stride] = in[k * stride] - peak - log_sum;
}

/// Hardmax: 1 at the first maximum, 0 elsewhere.
void hardmax_line(const float* in, float* out, std::int64_t size, std::int64_t stride) {
  std::int64_t best = 0;
  for (std::int64_t k = 1; k < size; ++k)
    if (in[k * stride] > in[best * stride]) best = k;
  for (std::int64_t k = 0; k < size; ++k) out[k * stride] = k == best ? 1.0f : 0.0f;
}

/// LogSoftmax, Hardmax: same shape in and out, each line along the axis mapped by `line`.
template <void (*line)(const float*, float*, std::int64_t, std::int64_t)>
void along_axis_f32(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 1, 1, 1, 1);
  native::require_dtype(node, inputs[0], DataType::Float32, "input");
  native::require_dtype(node, outputs[0], DataType::Float32, "output");
  native::require_shape(node, outputs[0].shape(), inputs[0].shape(), "output");
  const AxisLines lines(inputs[0].shape(), axis_of(node, inputs[0].shape().rank()));
  const float* in = inputs[0].data<float>();
  float* out = outputs[0].data<float>();
  lines.for_each([&](std::int64_t first, std::int64_t stride) { line(in + first, out + first, lines.size, stride); });
}

} // namespace

std::unique_ptr<Kernel> make_arg_extreme(const Node& node) { return std::make_unique<ArgExtremeKernel>(node); }
std::unique_ptr<Kernel> make_log_softmax(const Node& node) {
  return native::stateless_kernel(node, along_axis_f32<log_softmax_line>);
}
std::unique_ptr<Kernel> make_hardmax(const Node& node) {
  return native::stateless_kernel(node, along_axis_f32<hardmax_line>);
}

} // namespace tern::cpu
