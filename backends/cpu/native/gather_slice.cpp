// Gather and Slice: pick parts of a tensor of any dtype by int32/int64 positions. Both
// move whole elements (see with_element_word) and never read the values.
#include "native/common.hpp"
#include "native/native_ops.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace tern::cpu {
namespace {

// Output = data.shape[:axis] + indices.shape + data.shape[axis+1:]: for every outer index
// and every index, one contiguous block of data.shape[axis+1:] elements.
class GatherKernel final : public Kernel {
public:
  explicit GatherKernel(const Node& node) : node_(node), axis_(node.attr<std::int64_t>("axis")) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 2, 2, 1, 1);
    const Tensor& data = inputs[0];
    Tensor& y = outputs[0];
    const Shape& shape = data.shape();
    native::require(node_, shape.rank() >= 1, "data must have rank 1 or more");
    const std::size_t axis = native::normalize_axis(node_, axis_, shape.rank(), "attribute 'axis'");
    std::vector<std::int64_t> indices = native::index_values(node_, inputs[1], "indices");
    const std::int64_t size = shape[axis];
    // Every index is checked before anything is written: a bad one names itself and its position.
    for (std::size_t k = 0; k < indices.size(); ++k) {
      std::int64_t& index = indices[k];
      native::require(node_, index >= -size && index < size,
                      "index " + std::to_string(index) + " (at position " + std::to_string(k) +
                          " of the indices) is out of range [" + std::to_string(-size) + ", " +
                          std::to_string(size - 1) + "] for axis " + std::to_string(axis) + " of data " +
                          shape.to_string());
      if (index < 0) index += size;
    }
    std::vector<std::int64_t> dims(shape.begin(), shape.begin() + static_cast<std::ptrdiff_t>(axis));
    dims.insert(dims.end(), inputs[1].shape().begin(), inputs[1].shape().end());
    dims.insert(dims.end(), shape.begin() + static_cast<std::ptrdiff_t>(axis) + 1, shape.end());
    native::require(node_, y.dtype() == data.dtype(), "output dtype differs from the data's");
    native::require_shape(node_, y.shape(), Shape(dims), "output");

    const auto prefix = std::span(shape.dims()).first(axis);
    const auto suffix = std::span(shape.dims()).subspan(axis + 1);
    const std::int64_t outer = std::accumulate(prefix.begin(), prefix.end(), std::int64_t{1}, std::multiplies<>());
    const std::size_t block =
        static_cast<std::size_t>(std::accumulate(suffix.begin(), suffix.end(), std::int64_t{1}, std::multiplies<>())) *
        size_of(data.dtype());
    const auto count = static_cast<std::int64_t>(indices.size());
    const std::byte* src = native::bytes_of(data);
    std::byte* dst = native::bytes_of(y);
#pragma omp parallel for collapse(2) if (y.bytes() > (std::size_t{1} << 18))
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t k = 0; k < count; ++k)
        std::memcpy(dst + static_cast<std::size_t>(o * count + k) * block,
                    src + static_cast<std::size_t>(o * size + indices[static_cast<std::size_t>(k)]) * block, block);
  }

private:
  const Node& node_;
  std::int64_t axis_;
};

/// Slice: output element [i0, i1, ...] reads input [start0 + i0*step0, ...]; axes not
/// sliced have start 0 and step 1. Rows (the last axis) advance by a fixed, maybe negative, stride.
void slice(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 3, 5, 1, 1);
  const Tensor& data = inputs[0];
  Tensor& y = outputs[0];
  const Shape& shape = data.shape();
  const std::size_t rank = shape.rank();
  const std::vector<std::int64_t> starts = native::index_values(node, inputs[1], "starts");
  const std::vector<std::int64_t> ends = native::index_values(node, inputs[2], "ends");
  std::vector<std::int64_t> axes(starts.size()), steps(starts.size(), 1);
  std::iota(axes.begin(), axes.end(), std::int64_t{0}); // ONNX's default: the leading axes
  if (inputs.size() > 3 && inputs[3].defined()) axes = native::index_values(node, inputs[3], "axes");
  if (inputs.size() > 4 && inputs[4].defined()) steps = native::index_values(node, inputs[4], "steps");
  native::require(node, ends.size() == starts.size() && axes.size() == starts.size() && steps.size() == starts.size(),
                  "starts, ends, axes and steps must have one entry per sliced axis each");

  std::vector<std::int64_t> first(rank, 0), step(rank, 1), dims = shape.dims();
  std::vector<bool> seen(rank, false);
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const std::size_t a = native::normalize_axis(node, axes[k], rank, "axis");
    native::require(node, !seen[a], "axis " + std::to_string(a) + " is sliced twice");
    native::require(node, steps[k] != 0, "step 0 for axis " + std::to_string(a));
    seen[a] = true;
    // ONNX: negative start/end count from the end; then clamp to [0, size] forward, or
    // start to [0, size-1] and end to [-1, size-1] backward (so element 0 can be reached).
    const std::int64_t size = shape[a];
    const bool forward = steps[k] > 0;
    std::int64_t start = starts[k] < 0 ? starts[k] + size : starts[k];
    std::int64_t end = ends[k] < 0 ? ends[k] + size : ends[k];
    start = std::clamp<std::int64_t>(start, 0, forward ? size : std::max<std::int64_t>(size - 1, 0));
    end = std::clamp<std::int64_t>(end, forward ? 0 : -1, forward ? size : size - 1);
    const std::int64_t distance = forward ? end - start : start - end;
    const std::int64_t stride = forward ? steps[k] : (steps[k] < -size ? std::max<std::int64_t>(size, 1) : -steps[k]);
    dims[a] = size == 0 || distance <= 0 ? 0 : 1 + (distance - 1) / stride;
    first[a] = start;
    step[a] = steps[k];
  }
  native::require(node, y.dtype() == data.dtype(), "output dtype differs from the data's");
  native::require_shape(node, y.shape(), Shape(dims), "output");
  if (y.numel() == 0) return;

  // Element offset of output [i...] = base + sum(i_d * walk_d).
  const std::vector<std::int64_t> in_strides = native::strides_of(shape);
  std::int64_t base = 0;
  std::vector<std::int64_t> walk(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    base += first[d] * in_strides[d];
    walk[d] = step[d] * in_strides[d];
  }
  const std::int64_t row = rank == 0 ? 1 : dims.back();
  const std::int64_t row_walk = rank == 0 ? 0 : walk.back();
  const std::int64_t rows = y.numel() / row;
  const std::size_t outer = rank == 0 ? 0 : rank - 1;
  native::with_element_word(data.dtype(), [&](auto word) {
    using Word = decltype(word);
    const Word* in = static_cast<const Word*>(data.raw());
    Word* out = static_cast<Word*>(y.raw());
#pragma omp parallel for if (y.numel() > (1 << 16))
    for (std::int64_t r = 0; r < rows; ++r) {
      std::int64_t offset = base, rest = r;
      for (std::size_t d = outer; d-- > 0;) {
        offset += rest % dims[d] * walk[d];
        rest /= dims[d];
      }
      Word* target = out + r * row;
      for (std::int64_t i = 0; i < row; ++i) target[i] = in[offset + i * row_walk];
    }
  });
}

} // namespace

std::unique_ptr<Kernel> make_gather(const Node& node) { return std::make_unique<GatherKernel>(node); }
std::unique_ptr<Kernel> make_slice(const Node& node) { return native::stateless_kernel(node, slice); }

} // namespace tern::cpu
