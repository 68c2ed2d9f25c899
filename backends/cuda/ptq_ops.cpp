#include "ptq_ops.hpp"

#include "clip_search.cuh"
#include "cuda_check.hpp"
#include "fake_quantize.cuh"
#include "histogram.cuh"
#include "range.cuh"

#include <tern/error.hpp>

#include <cmath>
#include <optional>

namespace tern::cuda {
namespace {

void require_float32(const Tensor& tensor, const std::string& what) {
  check(tensor.dtype() == DataType::Float32,
        [&] { return what + " must be float32, got " + std::string(name(tensor.dtype())); });
}

/// x seen as [outer, channels, inner] around `axis`; one channel without an axis.
ChannelLayout layout_of(const Shape& shape, std::optional<std::int64_t> axis) {
  ChannelLayout layout;
  if (!axis) {
    layout.inner = shape.numel();
    return layout;
  }
  const auto rank = static_cast<std::int64_t>(shape.rank());
  check(*axis >= -rank && *axis < rank,
        [&] { return "axis " + std::to_string(*axis) + " is out of range for " + shape.to_string(); });
  const auto a = static_cast<std::size_t>(*axis < 0 ? *axis + rank : *axis);
  for (std::size_t d = 0; d < shape.rank(); ++d)
    (d < a ? layout.outer : d == a ? layout.channels : layout.inner) *= shape[d];
  return layout;
}

class RangeKernel final : public Kernel {
public:
  RangeKernel(const Node& node, CudaBackend& backend)
      : backend_(backend),
        axis_(node.attrs().has("axis") ? std::optional(node.attr<std::int64_t>("axis")) : std::nullopt) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    require_float32(inputs[0], "x");
    const ChannelLayout layout = layout_of(inputs[0].shape(), axis_);
    // Channels are the grid's y dimension.
    check(layout.channels <= 65535, [&] { return "at most 65535 channels, got " + std::to_string(layout.channels); });
    check(outputs[0].shape() == Shape{layout.channels, 3}, [&] {
      return "ranges must be " + Shape{layout.channels, 3}.to_string();
    });
    const std::shared_ptr<std::byte> scratch = backend_.allocate(range_scratch_bytes(layout));
    cuda_check(launch_range(static_cast<const float*>(inputs[0].raw()), layout, scratch.get(),
                            static_cast<float*>(outputs[0].raw()),
                            outputs.size() > 1 ? static_cast<long long*>(outputs[1].raw()) : nullptr,
                            backend_.stream()),
               "PtqRange launch");
  }

private:
  CudaBackend& backend_;
  const std::optional<std::int64_t> axis_;
};

class HistogramKernel final : public Kernel {
public:
  explicit HistogramKernel(CudaBackend& backend) : backend_(backend) {}

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    require_float32(inputs[0], "x");
    check(inputs[1].dtype() == DataType::Float64 && inputs[1].numel() == 1, "range must be one float64");
    double range = 0;
    backend_.copy_to_host(static_cast<const std::byte*>(inputs[1].raw()), reinterpret_cast<std::byte*>(&range),
                          sizeof range);
    check(range > 0 && std::isfinite(range),
          [&] { return "the range must be positive and finite, got " + std::to_string(range); });
    const std::int64_t bins = outputs[0].numel();
    // The host divides, exactly as the CPU kernel and ValueStatistics do.
    const double scale = static_cast<double>(bins) / range;
    cuda_check(launch_histogram(static_cast<const float*>(inputs[0].raw()), inputs[0].numel(), scale, bins,
                                static_cast<unsigned long long*>(outputs[0].raw()), backend_.stream()),
               "PtqHistogram launch");
  }

private:
  CudaBackend& backend_;
};

class FakeQuantizeKernel final : public Kernel {
public:
  FakeQuantizeKernel(const Node& node, CudaBackend& backend)
      : backend_(backend), axis_(node.attr<std::int64_t>("axis")) {
    // float32 like the graph's constants: the products are float32 products.
    for (const double f : node.attr<std::vector<double>>("factor")) factors_.push_back(static_cast<float>(f));
    for (const double s : node.attr<std::vector<double>>("scale")) scales_.push_back(static_cast<float>(s));
    params_.lo = static_cast<float>(node.attr<double>("lo"));
    params_.hi = static_cast<float>(node.attr<double>("hi"));
    params_.factor = factors_[0];
    params_.scale = scales_[0];
  }

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    require_float32(inputs[0], "x");
    check(outputs[0].shape() == inputs[0].shape(),
          [&] { return "y must have x's shape " + inputs[0].shape().to_string(); });
    FakeQuantizeParams params = params_;
    if (factors_.size() > 1) {
      const ChannelLayout layout = layout_of(inputs[0].shape(), axis_);
      check(static_cast<std::size_t>(layout.channels) == factors_.size(), [&] {
        return std::to_string(factors_.size()) + " factors for " + std::to_string(layout.channels) + " channels";
      });
      if (!device_factors_) device_factors_ = upload();
      params.factors = reinterpret_cast<const float*>(device_factors_.get());
      params.scales = params.factors + factors_.size();
      params.channels = layout.channels;
      params.inner = layout.inner;
    }
    cuda_check(launch_fake_quantize(static_cast<const float*>(inputs[0].raw()), static_cast<float*>(outputs[0].raw()),
                                    inputs[0].numel(), params, backend_.stream()),
               "PtqFakeQuantize launch");
  }

private:
  /// The per-channel factors then scales, on the device (once per plan).
  std::shared_ptr<std::byte> upload() {
    std::vector<float> both = factors_;
    both.insert(both.end(), scales_.begin(), scales_.end());
    std::shared_ptr<std::byte> memory = backend_.allocate(both.size() * sizeof(float));
    backend_.copy_from_host(reinterpret_cast<const std::byte*>(both.data()), memory.get(), both.size() * sizeof(float));
    return memory;
  }

  CudaBackend& backend_;
  const std::int64_t axis_;
  std::vector<float> factors_;
  std::vector<float> scales_;
  FakeQuantizeParams params_;
  std::shared_ptr<std::byte> device_factors_;
};

class ClipSearchKernel final : public Kernel {
public:
  ClipSearchKernel(const Node& node, CudaBackend& backend)
      : backend_(backend), levels_(node.attr<std::int64_t>("levels")), bin_width_(node.attr<double>("bin_width")),
        abs_max_(node.attr<double>("abs_max")) {
    const auto mode = node.attr<std::string>("mode");
    mode_ = mode == "mse" ? ClipMode::Mse : mode == "aa" ? ClipMode::Aa : ClipMode::Kl;
  }

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    check(inputs[0].dtype() == DataType::Float64 && inputs[0].numel() > 0,
          "counts must be a non-empty float64 histogram");
    cuda_check(launch_clip_search(static_cast<const double*>(inputs[0].raw()), inputs[0].numel(), mode_, levels_,
                                  bin_width_, abs_max_, static_cast<double*>(outputs[0].raw()), backend_.stream()),
               "PtqClipSearch launch");
  }

private:
  CudaBackend& backend_;
  const std::int64_t levels_;
  const double bin_width_;
  const double abs_max_;
  ClipMode mode_;
};

} // namespace

std::unique_ptr<Kernel> make_range(const Node& node, CudaBackend& backend) {
  return std::make_unique<RangeKernel>(node, backend);
}
std::unique_ptr<Kernel> make_histogram(const Node&, CudaBackend& backend) {
  return std::make_unique<HistogramKernel>(backend);
}
std::unique_ptr<Kernel> make_fake_quantize(const Node& node, CudaBackend& backend) {
  return std::make_unique<FakeQuantizeKernel>(node, backend);
}
std::unique_ptr<Kernel> make_clip_search(const Node& node, CudaBackend& backend) {
  return std::make_unique<ClipSearchKernel>(node, backend);
}

} // namespace tern::cuda
