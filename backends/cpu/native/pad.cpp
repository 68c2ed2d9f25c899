// Pad (opset 18: pads, constant_value and axes are inputs), any dtype. Each output
// coordinate maps back to an input coordinate per axis (or to "the constant"), so negative
// pads (cropping) need no special case.
#include "native/common.hpp"
#include "native/native_ops.hpp"

namespace tern::cpu {
namespace {

enum class PadMode { Constant, Reflect, Edge };

constexpr std::int64_t outside = -1; // the constant, in constant mode

class PadKernel final : public Kernel {
public:
  explicit PadKernel(const Node& node) : node_(node) {
    const auto mode = node.attr<std::string>("mode");
    if (mode == "constant")
      mode_ = PadMode::Constant;
    else if (mode == "reflect")
      mode_ = PadMode::Reflect;
    else if (mode == "edge")
      mode_ = PadMode::Edge;
    else
      native::fail(node, "attribute 'mode' is '" + mode + "'; expected constant, reflect or edge");
  }

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 2, 4, 1, 1);
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    const Shape& in = x.shape();
    const std::size_t rank = in.rank();
    const std::vector<std::int64_t> begins = begin_pads(inputs, y.shape());
    native::require(node_, y.dtype() == x.dtype(), "output dtype differs from the input's");
    for (std::size_t d = 0; d < rank; ++d)
      native::require(node_, mode_ == PadMode::Constant || in[d] > 0 || y.shape()[d] == 0,
                      "cannot reflect or extend axis " + std::to_string(d) + ", which is empty");
    if (y.numel() == 0) return;

    native::with_element_word(x.dtype(), [&](auto word) {
      using Word = decltype(word);
      Word fill{}; // zero bits: 0, 0.0f or false, ONNX's default constant
      if (inputs.size() > 2 && inputs[2].defined()) {
        native::require(node_, inputs[2].dtype() == x.dtype() && inputs[2].numel() == 1,
                        "constant_value must be one " + std::string(name(x.dtype())) + " value");
        fill = *static_cast<const Word*>(inputs[2].raw());
      }
      const Word* src = static_cast<const Word*>(x.raw());
      Word* dst = static_cast<Word*>(y.raw());
      if (rank == 0) {
        dst[0] = src[0];
        return;
      }
      const std::vector<std::int64_t> in_strides = native::strides_of(in);
      const std::int64_t row = y.shape()[rank - 1];
      std::vector<std::int64_t> last(static_cast<std::size_t>(row)); // source index along the last axis
      for (std::int64_t i = 0; i < row; ++i)
        last[static_cast<std::size_t>(i)] = source(i - begins[rank - 1], in[rank - 1]);
      const std::int64_t rows = y.numel() / row;
#pragma omp parallel for if (y.numel() > (1 << 16))
      for (std::int64_t r = 0; r < rows; ++r) {
        Word* target = dst + r * row;
        std::int64_t offset = 0, rest = r;
        bool in_constant = false;
        for (std::size_t d = rank - 1; d-- > 0;) {
          const std::int64_t s = source(rest % y.shape()[d] - begins[d], in[d]);
          rest /= y.shape()[d];
          in_constant = in_constant || s == outside;
          offset += s * in_strides[d];
        }
        for (std::int64_t i = 0; i < row; ++i) {
          const std::int64_t s = last[static_cast<std::size_t>(i)];
          target[i] = in_constant || s == outside ? fill : src[offset + s];
        }
      }
    });
  }

private:
  /// The input index read for padded index `i` (may be outside [0, n)) along an axis of size n.
  std::int64_t source(std::int64_t i, std::int64_t n) const {
    if (i >= 0 && i < n) return i;
    switch (mode_) {
    case PadMode::Constant: return outside;
    case PadMode::Edge: return i < 0 ? 0 : n - 1;
    case PadMode::Reflect: {
      if (n == 1) return 0;
      // Mirroring without repeating the edge is periodic with period 2(n-1).
      const std::int64_t period = 2 * (n - 1);
      const std::int64_t m = ((i % period) + period) % period;
      return m < n ? m : period - m;
    }
    }
    return outside;
  }

  /// The begin pad of every axis, checked against the output shape.
  std::vector<std::int64_t> begin_pads(std::span<const Tensor> inputs, const Shape& output) const {
    const std::size_t rank = inputs[0].shape().rank();
    std::vector<std::size_t> axes;
    if (inputs.size() > 3 && inputs[3].defined()) {
      for (std::int64_t axis : native::index_values(node_, inputs[3], "axes"))
        axes.push_back(native::normalize_axis(node_, axis, rank, "axis"));
    } else {
      for (std::size_t d = 0; d < rank; ++d) axes.push_back(d);
    }
    native::require_dtype(node_, inputs[1], DataType::Int64, "pads");
    const std::vector<std::int64_t> pads = inputs[1].to_int64s();
    native::require(node_, pads.size() == 2 * axes.size(),
                    "pads has " + std::to_string(pads.size()) + " values, expected " + std::to_string(2 * axes.size()));
    std::vector<std::int64_t> begins(rank, 0), dims = inputs[0].shape().dims();
    for (std::size_t k = 0; k < axes.size(); ++k) {
      begins[axes[k]] = pads[k];
      dims[axes[k]] += pads[k] + pads[k + axes.size()];
    }
    native::require_shape(node_, output, Shape(dims), "output");
    return begins;
  }

  const Node& node_;
  PadMode mode_ = PadMode::Constant;
};

} // namespace

std::unique_ptr<Kernel> make_pad(const Node& node) { return std::make_unique<PadKernel>(node); }

} // namespace tern::cpu
