#include "column_means.hpp"

#include <tern/error.hpp>
#include <tern/window.hpp>

namespace tern::ptq {

ColumnMeans::ColumnMeans(const Node& node, const Shape& weights) : node_(node) {
  if (node.op_type() != "Conv") return;
  kernel_.assign(weights.dims().begin() + 2, weights.dims().end());
}

void ColumnMeans::prepare_offsets(const Shape& shape) {
  const Window window = resolve_window(node_, shape, kernel_);
  const std::vector<std::int64_t> out = window_output_sizes(node_, window, shape);
  const std::size_t spatial = out.size();
  std::size_t taps = 1;
  positions_ = 1;
  for (std::size_t d = 0; d < spatial; ++d) {
    taps *= static_cast<std::size_t>(kernel_[d]);
    positions_ *= static_cast<std::size_t>(out[d]);
  }
  offsets_.assign(taps, {});
  std::vector<std::int64_t> tap(spatial), position(spatial);
  for (std::size_t t = 0; t < taps; ++t) {
    std::size_t rest = t;
    for (std::size_t d = spatial; d-- > 0;) {
      tap[d] = static_cast<std::int64_t>(rest % static_cast<std::size_t>(kernel_[d]));
      rest /= static_cast<std::size_t>(kernel_[d]);
    }
    for (std::size_t p = 0; p < positions_; ++p) {
      rest = p;
      std::size_t offset = 0, stride = 1;
      bool inside = true;
      for (std::size_t d = spatial; d-- > 0;) {
        position[d] = static_cast<std::int64_t>(rest % static_cast<std::size_t>(out[d]));
        rest /= static_cast<std::size_t>(out[d]);
        const std::int64_t at = position[d] * window.strides[d] - window.pads_begin[d] + tap[d] * window.dilations[d];
        inside = inside && at >= 0 && at < shape[2 + d];
        offset += static_cast<std::size_t>(std::max<std::int64_t>(at, 0)) * stride;
        stride *= static_cast<std::size_t>(shape[2 + d]);
      }
      if (inside) offsets_[t].push_back(offset);
    }
  }
  offsets_for_ = shape;
}

void ColumnMeans::add(const Tensor& input) {
  check(input.dtype() == DataType::Float32 && input.shape().rank() >= 2,
        [&] { return "column means of " + node_.describe() + ": expected a float32 batch, got " + input.describe(); });
  const Shape& shape = input.shape();
  const float* data = input.data<float>();
  const auto batch = static_cast<std::size_t>(shape[0]);
  if (kernel_.empty()) { // one column per feature
    const std::size_t features = static_cast<std::size_t>(input.numel()) / batch;
    if (sums_.empty()) sums_.assign(features, 0.0);
    check(sums_.size() == features, [&] { return "column means of " + node_.describe() + ": the width changed"; });
    for (std::size_t n = 0; n < batch; ++n)
      for (std::size_t f = 0; f < features; ++f) sums_[f] += data[n * features + f];
    count_ += static_cast<double>(batch);
    return;
  }
  if (shape != offsets_for_) prepare_offsets(shape);
  const auto channels = static_cast<std::size_t>(shape[1]);
  const std::size_t taps = offsets_.size();
  const std::size_t plane = static_cast<std::size_t>(input.numel()) / (batch * channels);
  if (sums_.empty()) sums_.assign(channels * taps, 0.0);
  check(sums_.size() == channels * taps,
        [&] { return "column means of " + node_.describe() + ": the channel count changed"; });
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t c = 0; c < channels; ++c) {
      const float* x = data + (n * channels + c) * plane;
      for (std::size_t t = 0; t < taps; ++t) {
        double sum = 0.0;
        for (const std::size_t offset : offsets_[t]) sum += x[offset];
        sums_[c * taps + t] += sum;
      }
    }
  count_ += static_cast<double>(batch * positions_);
}

std::vector<double> ColumnMeans::means() const {
  std::vector<double> result = sums_;
  for (double& value : result) value /= count_;
  return result;
}

} // namespace tern::ptq
