// ReduceMean (float32, opset 13: "axes" attribute, all axes when absent or empty, "keepdims").
#include "native/common.hpp"
#include "native/native_ops.hpp"

namespace tern::cpu {
namespace {

class ReduceMeanKernel final : public Kernel {
public:
  explicit ReduceMeanKernel(const Node& node)
      : node_(node), keepdims_(node.attr<std::int64_t>("keepdims") != 0) {
    if (node.attrs().has("axes")) axes_ = node.attrs().get<std::vector<std::int64_t>>("axes");
  }

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 1, 1, 1);
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    native::require_dtype(node_, x, DataType::Float32, "input");
    native::require_dtype(node_, y, DataType::Float32, "output");
    const Shape& shape = x.shape();
    const std::size_t rank = shape.rank();
    std::vector<bool> reduced(rank, axes_.empty());
    for (const std::int64_t axis : axes_) reduced[native::normalize_axis(node_, axis, rank, "axis")] = true;

    // Kept axes address the output, reduced axes the elements averaged into one output.
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

    const float* in = x.data<float>();
    float* out = y.data<float>();
    const std::int64_t outputs_count = y.numel();
    // The innermost reduced axis is walked by a plain strided loop; the others by index math.
    const std::int64_t inner = reduced_sizes.empty() ? 1 : reduced_sizes.back();
    const std::int64_t inner_stride = reduced_strides.empty() ? 0 : reduced_strides.back();
    const std::int64_t outer = inner == 0 ? 0 : count / inner;
    const std::size_t outer_axes = reduced_sizes.empty() ? 0 : reduced_sizes.size() - 1;
#pragma omp parallel for if (x.numel() > (1 << 16))
    for (std::int64_t o = 0; o < outputs_count; ++o) {
      std::int64_t base = 0, rest = o;
      for (std::size_t k = kept_sizes.size(); k-- > 0;) {
        base += rest % kept_sizes[k] * kept_strides[k];
        rest /= kept_sizes[k];
      }
      double sum = 0.0; // double: long reductions of float32 keep their precision
      for (std::int64_t r = 0; r < outer; ++r) {
        std::int64_t offset = base, left = r;
        for (std::size_t k = outer_axes; k-- > 0;) {
          offset += left % reduced_sizes[k] * reduced_strides[k];
          left /= reduced_sizes[k];
        }
        for (std::int64_t i = 0; i < inner; ++i) sum += in[offset + i * inner_stride];
      }
      out[o] = static_cast<float>(sum / static_cast<double>(count)); // 0/0: NaN, like numpy's mean of nothing
    }
  }

private:
  const Node& node_;
  bool keepdims_;
  std::vector<std::int64_t> axes_;
};

} // namespace

std::unique_ptr<Kernel> make_reduce_mean(const Node& node) { return std::make_unique<ReduceMeanKernel>(node); }

} // namespace tern::cpu
