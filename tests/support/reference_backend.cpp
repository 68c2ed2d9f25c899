#include "reference_backend.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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
      y[i] = op(a[broadcast_index(in[0].shape(), out[0].shape(), i)],
                b[broadcast_index(in[1].shape(), out[0].shape(), i)]);
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
    if (type == "Relu")
      r = std::max(v, 0.0);
    else if (type == "LeakyRelu")
      r = v < 0 ? alpha * v : v;
    else if (type == "Clip")
      r = std::min(std::max(v, alpha), beta);
    else if (type == "Sigmoid")
      r = 1.0 / (1.0 + std::exp(-v));
    else if (type == "HardSigmoid")
      r = hard_sigmoid(v, alpha, beta);
    else if (type == "HardSwish")
      r = v * hard_sigmoid(v, 1.0 / 6.0, 0.5);
    else if (type == "Tanh")
      r = std::tanh(v);
    else if (type == "SiLU")
      r = v / (1.0 + std::exp(-v));
    else
      throw Error(node.describe() + ": the reference backend has no fused activation '" + type + "'");
    y[i] = static_cast<float>(r);
  }
}

/// The sliding window of a Conv or MaxPool over a 1-D or 2-D input, as two spatial axes
/// (H, W): a 1-D input [N, C, W] reads as [N, C, 1, W], with a window of height 1 that
/// steps by 1 and has no padding. Worked out here from the ONNX attributes (absent:
/// stride 1, dilation 1, pad 0), not with tern::resolve_window, so that the reference stays
/// independent of the code under test.
struct Window2D {
  std::int64_t in[2], out[2]; ///< spatial sizes of the input and of the (inferred) output
  std::int64_t kernel[2] = {1, 1}, stride[2] = {1, 1}, dilation[2] = {1, 1};
  std::int64_t pad[2] = {0, 0}; ///< zeros (Conv) or ignored positions (MaxPool) before the input
};

Window2D window_2d(const Node& node, const Shape& x, const Shape& y, const std::vector<std::int64_t>& kernel) {
  const std::size_t spatial = x.rank() - 2, first = 2 - spatial; // first axis of (H, W) the input has
  check(spatial == 1 || spatial == 2, node.describe() + ": the reference backend slides 1-D and 2-D windows only");
  using Ints = std::vector<std::int64_t>;
  const auto strides = node.attrs().get_or<Ints>("strides", Ints(spatial, 1));
  const auto dilations = node.attrs().get_or<Ints>("dilations", Ints(spatial, 1));
  const auto pads = node.attrs().get_or<Ints>("pads", Ints(2 * spatial, 0));
  const auto auto_pad = node.attrs().get_or<std::string>("auto_pad", "NOTSET");
  Window2D w;
  w.in[0] = w.out[0] = 1;
  for (std::size_t i = 0; i < spatial; ++i) {
    const std::size_t a = first + i;
    w.in[a] = x[2 + i];
    w.out[a] = y[2 + i];
    w.kernel[a] = kernel[i];
    w.stride[a] = strides[i];
    w.dilation[a] = dilations[i];
    w.pad[a] = pads[i];
    if (auto_pad == "VALID") w.pad[a] = 0;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      // The padding that makes the output ceil(in / stride) long: the odd one goes at
      // the end (UPPER) or at the beginning (LOWER).
      const std::int64_t out = (w.in[a] + w.stride[a] - 1) / w.stride[a];
      const std::int64_t span = (w.kernel[a] - 1) * w.dilation[a] + 1; // of the dilated kernel
      const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * w.stride[a] + span - w.in[a]);
      w.pad[a] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    }
  }
  return w;
}

/// Direct convolution, 1-D or 2-D, with groups, pads (or auto_pad), strides and dilations.
void conv_kernel(const Node& node, std::span<const Tensor> in, std::span<Tensor> out) {
  const Shape& ws = in[1].shape();
  const std::vector<std::int64_t> kernel(ws.dims().begin() + 2, ws.dims().end());
  const Window2D win = window_2d(node, in[0].shape(), out[0].shape(), kernel);
  const auto group = node.attr<std::int64_t>("group");
  const std::int64_t batch = in[0].shape()[0], cin = in[0].shape()[1], cout = ws[0];
  const std::int64_t cin_per_group = ws[1], cout_per_group = cout / group;
  const float* x = in[0].data<float>();
  const float* w = in[1].data<float>();
  const float* b = in.size() > 2 && in[2].defined() ? in[2].data<float>() : nullptr;
  float* y = out[0].data<float>();
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t co = 0; co < cout; ++co)
      for (std::int64_t oh = 0; oh < win.out[0]; ++oh)
        for (std::int64_t ow = 0; ow < win.out[1]; ++ow) {
          double sum = b ? b[co] : 0.0;
          const std::int64_t g = co / cout_per_group;
          for (std::int64_t ci = 0; ci < cin_per_group; ++ci)
            for (std::int64_t kh = 0; kh < win.kernel[0]; ++kh)
              for (std::int64_t kw = 0; kw < win.kernel[1]; ++kw) {
                const std::int64_t ih = oh * win.stride[0] - win.pad[0] + kh * win.dilation[0];
                const std::int64_t iw = ow * win.stride[1] - win.pad[1] + kw * win.dilation[1];
                if (ih < 0 || iw < 0 || ih >= win.in[0] || iw >= win.in[1]) continue; // zero padding
                sum += double(x[((n * cin + g * cin_per_group + ci) * win.in[0] + ih) * win.in[1] + iw]) *
                       w[((co * cin_per_group + ci) * win.kernel[0] + kh) * win.kernel[1] + kw];
              }
          y[((n * cout + co) * win.out[0] + oh) * win.out[1] + ow] = static_cast<float>(sum);
        }
  apply_fused_activation(node, out[0]);
}

/// Max over each window, 1-D or 2-D; padded positions take no part (as if -infinity).
void max_pool_kernel(const Node& node, std::span<const Tensor> in, std::span<Tensor> out) {
  const auto kernel = node.attr<std::vector<std::int64_t>>("kernel_shape");
  const Window2D win = window_2d(node, in[0].shape(), out[0].shape(), kernel);
  const std::int64_t planes = in[0].shape()[0] * in[0].shape()[1]; // N x C, each pooled alone
  const float* x = in[0].data<float>();
  float* y = out[0].data<float>();
  for (std::int64_t p = 0; p < planes; ++p)
    for (std::int64_t oh = 0; oh < win.out[0]; ++oh)
      for (std::int64_t ow = 0; ow < win.out[1]; ++ow) {
        float best = -std::numeric_limits<float>::infinity();
        for (std::int64_t kh = 0; kh < win.kernel[0]; ++kh)
          for (std::int64_t kw = 0; kw < win.kernel[1]; ++kw) {
            const std::int64_t ih = oh * win.stride[0] - win.pad[0] + kh * win.dilation[0];
            const std::int64_t iw = ow * win.stride[1] - win.pad[1] + kw * win.dilation[1];
            if (ih < 0 || iw < 0 || ih >= win.in[0] || iw >= win.in[1]) continue;
            best = std::max(best, x[(p * win.in[0] + ih) * win.in[1] + iw]);
          }
        y[(p * win.out[0] + oh) * win.out[1] + ow] = best;
      }
}

/// The reference's Conv and MaxPool slide 1-D and 2-D windows, and MaxPool has no Indices.
std::string window_support(const KernelQuery& query) {
  const std::size_t rank = query.input_shapes.at(0).rank();
  if (rank != 3 && rank != 4) return "the reference backend slides 1-D and 2-D windows only";
  if (query.node.outputs().size() != 1) return "the reference backend does not compute MaxPool's Indices";
  return {};
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
      for (std::int64_t p = 0; p < k; ++p)
        sum += double(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
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

/// Y[n, c, 1...] = the mean of X[n, c, ...] over its spatial positions.
void global_average_pool_kernel(const Node&, std::span<const Tensor> in, std::span<Tensor> out) {
  const std::int64_t planes = out[0].numel(), plane = in[0].numel() / planes;
  const float* x = in[0].data<float>();
  float* y = out[0].data<float>();
  for (std::int64_t p = 0; p < planes; ++p) {
    double sum = 0;
    for (std::int64_t i = 0; i < plane; ++i) sum += x[p * plane + i];
    y[p] = static_cast<float>(sum / static_cast<double>(plane));
  }
}

/// Two inputs one after the other along attribute 'axis'.
void concat_kernel(const Node& node, std::span<const Tensor> in, std::span<Tensor> out) {
  const auto rank = static_cast<std::int64_t>(out[0].shape().rank());
  const std::int64_t axis =
      node.attr<std::int64_t>("axis") < 0 ? node.attr<std::int64_t>("axis") + rank : node.attr<std::int64_t>("axis");
  std::int64_t outer = 1;
  for (std::int64_t a = 0; a < axis; ++a) outer *= out[0].shape()[static_cast<std::size_t>(a)];
  float* y = out[0].data<float>();
  for (std::int64_t o = 0; o < outer; ++o)
    for (const Tensor& part : in) {
      const std::int64_t chunk = part.numel() / outer;
      const float* x = part.data<float>() + o * chunk;
      y = std::copy(x, x + chunk, y);
    }
}

} // namespace

std::map<std::string, int>& kernel_runs() {
  static std::map<std::string, int> runs;
  return runs;
}

void register_reference_backend() {
  // Once per registry (tests may run in a ScopedRegistry of their own).
  const std::string name = "reference";
  if (find_backend(name) != nullptr) return;
  register_backend(std::make_shared<HostMemoryBackend>(name));
  const auto f32 = DataType::Float32;
  const KernelInput optional_f32 = KernelInput(f32).optional();
  std::vector<KernelDef> table;
  const auto add = [&](const std::string& op, std::vector<KernelInput> types, Fn fn, KernelSupport supports = nullptr) {
    table.push_back(function_kernel(op, std::move(types), counted(name, std::move(fn)), std::move(supports)));
  };
  {
    add("Relu", {f32}, unary([](float v) { return v > 0 ? v : 0.0f; }));
    add("Sigmoid", {f32}, unary([](float v) { return 1.0f / (1.0f + std::exp(-v)); }));
    add("Identity", {f32}, copy_kernel);
    // Clip's min and max are each optional (absent: unbounded on that side).
    add("Clip", {f32, optional_f32, optional_f32}, [](const Node&, std::span<const Tensor> in, std::span<Tensor> out) {
      const bool has_low = in.size() > 1 && in[1].defined(), has_high = in.size() > 2 && in[2].defined();
      const float low = has_low ? in[1].data<float>()[0] : -std::numeric_limits<float>::infinity();
      const float high = has_high ? in[2].data<float>()[0] : std::numeric_limits<float>::infinity();
      const float* x = in[0].data<float>();
      float* y = out[0].data<float>();
      for (std::int64_t i = 0; i < out[0].numel(); ++i) y[i] = std::min(std::max(x[i], low), high);
    });
    add("Flatten", {f32}, copy_kernel);
    add("Add", {f32, f32}, binary([](float a, float b) { return a + b; }));
    add("Mul", {f32, f32}, binary([](float a, float b) { return a * b; }));
    add("Div", {f32, f32}, binary([](float a, float b) { return a / b; }));
    add("Conv", {f32, f32, optional_f32}, conv_kernel, window_support);
    add("MaxPool", {f32}, max_pool_kernel, window_support);
    add("GlobalAveragePool", {f32}, global_average_pool_kernel);
    add("Concat", {f32, f32}, concat_kernel);
    add("Gemm", {f32, f32, optional_f32}, gemm_kernel);
    add("BatchNormalization", {f32, f32, f32, f32, f32}, batchnorm_kernel);
  }
  register_kernels(name, std::move(table));
}

void register_relu_only_backend() {
  if (find_backend("reluonly") != nullptr) return;
  register_backend(std::make_shared<HostMemoryBackend>("reluonly"));
  register_kernels("reluonly", {function_kernel("Relu", {DataType::Float32},
                                                counted("reluonly", unary([](float v) { return v > 0 ? v : 0.0f; })))});
}

} // namespace tern::test
