// LayerNormalization (float32): X seen as [rows, columns], the columns being the axes from
// `axis` on; each row is normalised by its own mean and variance, then scaled and shifted
// by Scale and B broadcast to those axes. The statistics are summed in double, so a long row
// (ConvNeXt's 768 channels, a transformer's hidden size) loses nothing to float32 rounding.
#include "native/broadcast.hpp"
#include "native/common.hpp"
#include "native/native_ops.hpp"

#include <array>
#include <cmath>

namespace tern::cpu {
namespace {

/// `tensor` (Scale or B) broadcast to the normalised axes `columns`, one value per column.
std::vector<float> per_column(const Node& node, const Tensor& tensor, const Shape& columns, const std::string& what) {
  native::require_dtype(node, tensor, DataType::Float32, what);
  // `columns` joins the shapes too: Broadcast wants the inputs' common shape to be the output.
  const native::Broadcast plan(node, {tensor.shape(), columns}, columns);
  std::vector<float> values(static_cast<std::size_t>(columns.numel()));
  const float* data = tensor.data<float>();
  for (std::int64_t row = 0; row < plan.rows(); ++row)
    for (std::int64_t i = 0; i < plan.row_length(); ++i)
      values[static_cast<std::size_t>(row * plan.row_length() + i)] =
          data[plan.row_offset(0, row) + i * plan.row_step(0)];
  return values;
}

class LayerNormalizationKernel final : public Kernel {
public:
  explicit LayerNormalizationKernel(const Node& node)
      : node_(node), epsilon_(node.attr<double>("epsilon")), axis_(node.attr<std::int64_t>("axis")) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 2, 3, 1, 3);
    const Tensor& x = inputs[0];
    native::require_dtype(node_, x, DataType::Float32, "X");
    const std::size_t axis = native::normalize_axis(node_, axis_, x.shape().rank(), "attribute 'axis'");
    const std::vector<std::int64_t>& dims = x.shape().dims();
    const Shape columns(std::vector<std::int64_t>(dims.begin() + static_cast<std::ptrdiff_t>(axis), dims.end()));
    const std::int64_t width = columns.numel();
    const std::int64_t rows = width == 0 ? 0 : x.numel() / width;
    const std::vector<float> scale = per_column(node_, inputs[1], columns, "Scale");
    const bool shifted = inputs.size() > 2 && inputs[2].defined();
    const std::vector<float> bias =
        shifted ? per_column(node_, inputs[2], columns, "B") : std::vector<float>(scale.size(), 0.0f);
    native::require_dtype(node_, outputs[0], DataType::Float32, "Y");
    native::require_shape(node_, outputs[0].shape(), x.shape(), "Y");
    // Mean and InvStdDev, when the node asks for them: one float32 per row.
    std::array<float*, 2> statistics{};
    for (std::size_t k = 1; k < outputs.size(); ++k) {
      if (!outputs[k].defined()) continue;
      const std::string what = k == 1 ? "Mean" : "InvStdDev";
      native::require_dtype(node_, outputs[k], DataType::Float32, what);
      native::require(node_, outputs[k].numel() == rows, what + " must hold one value per normalised row");
      statistics[k - 1] = outputs[k].data<float>();
    }
    const float* in = x.data<float>();
    float* out = outputs[0].data<float>();
    const double epsilon = epsilon_;
#pragma omp parallel for if (x.numel() > (1 << 16))
    for (std::int64_t row = 0; row < rows; ++row) {
      const float* source = in + row * width;
      float* target = out + row * width;
      double sum = 0.0;
      for (std::int64_t i = 0; i < width; ++i) sum += static_cast<double>(source[i]);
      const double mean = sum / static_cast<double>(width);
      double squares = 0.0;
      for (std::int64_t i = 0; i < width; ++i) {
        const double d = static_cast<double>(source[i]) - mean;
        squares += d * d;
      }
      const double inverse = 1.0 / std::sqrt(squares / static_cast<double>(width) + epsilon);
      for (std::int64_t i = 0; i < width; ++i) {
        const auto c = static_cast<std::size_t>(i);
        target[i] = static_cast<float>((static_cast<double>(source[i]) - mean) * inverse) * scale[c] + bias[c];
      }
      if (statistics[0] != nullptr) statistics[0][row] = static_cast<float>(mean);
      if (statistics[1] != nullptr) statistics[1][row] = static_cast<float>(inverse);
    }
  }

private:
  const Node& node_;
  double epsilon_;
  std::int64_t axis_;
};

} // namespace

std::unique_ptr<Kernel> make_layer_normalization(const Node& node) {
  return std::make_unique<LayerNormalizationKernel>(node);
}

} // namespace tern::cpu
