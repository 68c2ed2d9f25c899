#include "reference_backend.hpp"

#include <cmath>
#include <mutex>

namespace tern::test {
namespace {

class HostMemoryBackend final : public Backend {
public:
  explicit HostMemoryBackend(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::shared_ptr<std::byte> allocate(std::size_t bytes) override { return host_backend().allocate(bytes); }

private:
  std::string name_;
};

using Fn = FunctionKernel::Fn;

/// Wraps a kernel so each run is counted under `backend`.
Fn counted(const std::string& backend, Fn fn) {
  return [backend, fn](const Node& node, std::span<const Tensor> in, std::span<Tensor> out) {
    ++kernel_runs()[backend];
    fn(node, in, out);
  };
}

template <class Op> Fn unary(Op op) {
  return [op](const Node&, std::span<const Tensor> in, std::span<Tensor> out) {
    const float* x = in[0].data<float>();
    float* y = out[0].data<float>();
    for (std::int64_t i = 0; i < out[0].numel(); ++i) y[i] = op(x[i]);
  };
}

/// Index of `out_index` (row-major over `out`) into a tensor of shape `in` broadcast to `out`.
std::int64_t broadcast_index(const Shape& in, const Shape& out, std::int64_t out_index) {
  std::int64_t index = 0, stride = 1;
  for (std::size_t k = 0; k < out.rank(); ++k) {
    const std::size_t axis = out.rank() - 1 - k;
    const std::int64_t coordinate = out_index % out[axis];
    out_index /= out[axis];
    if (k < in.rank()) {
      const std::int64_t dim = in[in.rank() - 1 - k];
      index += (dim == 1 ? 0 : coordinate) * stride;
      stride *= dim;
    }
  }
  return index;
}

template <class Op> Fn binary(Op op) {
  return [op](const Node&, std::span<const Tensor> in, std::span<Tensor> out) {
    const float* a = in[0].data<float>();
    const float* b = in[1].data<float>();
    float* y = out[0].data<float>();
    for (std::int64_t i = 0; i < out[0].numel(); ++i)
      y[i] = op(a[broadcast_index(in[0].shape(), out[0].shape(), i)], b[broadcast_index(in[1].shape(), out[0].shape(), i)]);
  };
}

void copy_kernel(const Node&, std::span<const Tensor> in, std::span<Tensor> out) {
  std::copy_n(in[0].data<float>(), out[0].numel(), out[0].data<float>());
}

/// Applies the activation a Conv or Gemm carries (Tern's fused-activation attributes;
/// fuse_activations) to its output in place, from each activation's ONNX definition.
void apply_fused_activation(const Node& node, Tensor& out) {
  const auto type = node.attr<std::string>("activation");
  if (type.empty()) return;
  const double alpha = node.attr<double>("activation_alpha"), beta = node.attr<double>("activation_beta");
  const auto hard_sigmoid = [](double v, double a, double b) { return std::max(0.0, std::min(1.0, a * v + b)); };
  float* y = out.data<float>();
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    const double v = y[i];
    double r = v;
    if (type == "Relu") r = std::max(v, 0.0);
    else if (type == "LeakyRelu") r = v < 0 ? alpha * v : v;
    else if (type == "Clip") r = std::min(std::max(v, alpha), beta);
    else if (type == "Sigmoid") r = 1.0 / (1.0 + std::exp(-v));
    else if (type == "HardSigmoid") r = hard_sigmoid(v, alpha, beta);
    else if (type == "HardSwish") r = v * hard_sigmoid(v, 1.0 / 6.0, 0.5);
    else if (type == "Tanh") r = std::tanh(v);
    else throw Error(node.describe() + ": the reference backend has no fused activation '" + type + "'");
    y[i] = static_cast<float>(r);
  }
}

/// Direct convolution, 2-D, with groups, pads, strides and dilations.
void conv_kernel(const Node& node, std::span<const Tensor> in, std::span<Tensor> out) {
  const Shape& xs = in[0].shape();
  const Shape& ws = in[1].shape();
  const Shape& ys = out[0].shape();
  const auto group = node.attr<std::int64_t>("group");
  const auto strides = node.attrs().get_or<std::vector<std::int64_t>>("strides", {1, 1});
  const auto pads = node.attrs().get_or<std::vector<std::int64_t>>("pads", {0, 0, 0, 0});
  const auto dilations = node.attrs().get_or<std::vector<std::int64_t>>("dilations", {1, 1});
  const float* x = in[0].data<float>();
  const float* w = in[1].data<float>();
  const float* b = in.size() > 2 && in[2].defined() ? in[2].data<float>() : nullptr;
  float* y = out[0].data<float>();
  const std::int64_t cin_per_group = ws[1], cout_per_group = ws[0] / group;
  for (std::int64_t n = 0; n < ys[0]; ++n)
    for (std::int64_t co = 0; co < ys[1]; ++co)
      for (std::int64_t oh = 0; oh < ys[2]; ++oh)
        for (std::int64_t ow = 0; ow < ys[3]; ++ow) {
          double sum = b ? b[co] : 0.0;
          const std::int64_t g = co / cout_per_group;
          for (std::int64_t ci = 0; ci < cin_per_group; ++ci)
            for (std::int64_t kh = 0; kh < ws[2]; ++kh)
              for (std::int64_t kw = 0; kw < ws[3]; ++kw) {
                const std::int64_t ih = oh * strides[0] - pads[0] + kh * dilations[0];
                const std::int64_t iw = ow * strides[1] - pads[1] + kw * dilations[1];
                if (ih < 0 || iw < 0 || ih >= xs[2] || iw >= xs[3]) continue;
                sum += double(x[((n * xs[1] + g * cin_per_group + ci) * xs[2] + ih) * xs[3] + iw]) *
                       w[((co * ws[1] + ci) * ws[2] + kh) * ws[3] + kw];
              }
          y[((n * ys[1] + co) * ys[2] + oh) * ys[3] + ow] = static_cast<float>(sum);
        }
  apply_fused_activation(node, out[0]);
}

/// Y = alpha * A' B' + beta * C with A read as [rows, rest] when of rank > 2.
void gemm_kernel(const Node& node, std::span<const Tensor> in, std::span<Tensor> out) {
  const bool ta = node.attr<std::int64_t>("transA") != 0, tb = node.attr<std::int64_t>("transB") != 0;
  const double alpha = node.attr<double>("alpha"), beta = node.attr<double>("beta");
  const std::int64_t a_rows = in[0].shape()[0], a_cols = in[0].numel() / a_rows;
  const std::int64_t m = ta ? a_cols : a_rows, k = ta ? a_rows : a_cols;
  const std::int64_t n = out[0].shape()[1];
  const float* a = in[0].data<float>();
  const float* b = in[1].data<float>();
  const bool has_c = in.size() > 2 && in[2].defined();
  float* y = out[0].data<float>();
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (std::int64_t p = 0; p < k; ++p) sum += double(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      const double c = has_c ? in[2].data<float>()[broadcast_index(in[2].shape(), out[0].shape(), i * n + j)] : 0.0;
      y[i * n + j] = static_cast<float>(alpha * sum + beta * c);
    }
  apply_fused_activation(node, out[0]);
}

void batchnorm_kernel(const Node& node, std::span<const Tensor> in, std::span<Tensor> out) {
  const double eps = node.attr<double>("epsilon");
  const Shape& s = in[0].shape();
  const std::int64_t channels = s[1], inner = in[0].numel() / (s[0] * channels);
  const float* x = in[0].data<float>();
  float* y = out[0].data<float>();
  for (std::int64_t i = 0; i < in[0].numel(); ++i) {
    const std::int64_t c = (i / inner) % channels;
    y[i] = static_cast<float>((x[i] - in[3].data<float>()[c]) / std::sqrt(double(in[4].data<float>()[c]) + eps) *
                                  in[1].data<float>()[c] +
                              in[2].data<float>()[c]);
  }
}

} // namespace

std::map<std::string, int>& kernel_runs() {
  static std::map<std::string, int> runs;
  return runs;
}

void register_reference_backend() {
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string name = "reference";
    register_backend(std::make_shared<HostMemoryBackend>(name));
    const auto f32 = DataType::Float32;
    const auto add = [&](const std::string& op, std::vector<DataType> types, Fn fn) {
      register_kernel(name, function_kernel(op, std::move(types), counted(name, std::move(fn))));
    };
    add("Relu", {f32}, unary([](float v) { return v > 0 ? v : 0.0f; }));
    add("Sigmoid", {f32}, unary([](float v) { return 1.0f / (1.0f + std::exp(-v)); }));
    add("Identity", {f32}, copy_kernel);
    add("Clip", {f32, f32, f32}, [](const Node&, std::span<const Tensor> in, std::span<Tensor> out) {
      const float low = in[1].data<float>()[0], high = in[2].data<float>()[0];
      const float* x = in[0].data<float>();
      float* y = out[0].data<float>();
      for (std::int64_t i = 0; i < out[0].numel(); ++i) y[i] = std::min(std::max(x[i], low), high);
    });
    add("Flatten", {f32}, copy_kernel);
    add("Add", {f32, f32}, binary([](float a, float b) { return a + b; }));
    add("Mul", {f32, f32}, binary([](float a, float b) { return a * b; }));
    add("Conv", {f32, f32}, conv_kernel);
    add("Conv", {f32, f32, f32}, conv_kernel);
    add("Gemm", {f32, f32}, gemm_kernel);
    add("Gemm", {f32, f32, f32}, gemm_kernel);
    add("BatchNormalization", {f32, f32, f32, f32, f32}, batchnorm_kernel);
  });
}

void register_relu_only_backend() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_backend(std::make_shared<HostMemoryBackend>("reluonly"));
    register_kernel("reluonly", function_kernel("Relu", {DataType::Float32},
                                                counted("reluonly", unary([](float v) { return v > 0 ? v : 0.0f; }))));
  });
}

} // namespace tern::test
