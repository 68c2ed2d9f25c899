#include "integer_support.hpp"

#include "dnnl_ops.hpp"

#include <algorithm>
#include <cstdlib>

namespace tern::cpu::onednn {

namespace {

bool has_vnni() {
  static const bool vnni = [] {
    using isa = dnnl::cpu_isa;
    switch (dnnl::get_effective_cpu_isa()) {
    case isa::avx2_vnni:
    case isa::avx512_core_vnni:
    case isa::avx512_core_bf16:
    case isa::avx512_core_amx: return true;
    default: return false;
    }
  }();
  return vnni;
}

/// Largest |w| for which a pair of u8 x s8 products fits vpmaddubsw's int16: 255 · 2 · 63
/// = 32130 <= 32767 (64 would do too; 63 is what 7-bit symmetric quantization gives).
constexpr std::int8_t saturation_free_weight = 63;

bool within_saturation_free_range(const Tensor& weights) {
  if (weights.dtype() != DataType::Int8) return false;
  const std::int8_t* w = weights.data<std::int8_t>();
  return std::all_of(w, w + weights.numel(),
                     [](std::int8_t v) { return v >= -saturation_free_weight && v <= saturation_free_weight; });
}

/// Conv or ConvChannelsLast (the same convolution on another layout).
bool is_conv(const Node& node) { return node.op_type() == "Conv" || node.op_type() == "ConvChannelsLast"; }

/// A 1x1 Conv with a stride above 1 and explicit pads: oneDNN 2.6 runs it by first copying
/// the strided pixels ("reduce to unit stride"), and its int8 form gave wrong sums about
/// once in eight runs on two OpenMP threads here (AVX2; never on one thread). Without pads
/// (ResNet's projections) the Conv kernel gathers the pixels itself and the primitive runs
/// unstrided; with pads (which no exporter writes for a 1x1) Tern's native kernels run it.
bool padded_strided_pointwise_conv(const Node& node) {
  if (!is_conv(node) || node.input(1) == nullptr) return false;
  const Shape& w = node.input(1)->shape();
  const bool pointwise = w.rank() >= 3 && std::all_of(w.begin() + 2, w.end(), [](std::int64_t k) { return k == 1; });
  if (!pointwise || !node.attrs().has("strides") || !node.attrs().has("pads")) return false;
  const auto strides = node.attr<std::vector<std::int64_t>>("strides");
  const auto pads = node.attr<std::vector<std::int64_t>>("pads");
  return std::any_of(strides.begin(), strides.end(), [](std::int64_t s) { return s > 1; }) &&
         std::any_of(pads.begin(), pads.end(), [](std::int64_t p) { return p != 0; });
}

/// A Conv whose bias, if any, is a constant (the shift's compensation is computed once).
bool constant_bias_conv(const Node& node) {
  return is_conv(node) && (node.input(2) == nullptr || constant_input(node, 2) != nullptr);
}

} // namespace

bool int8_primitives_exact(const Node& node) {
  if (padded_strided_pointwise_conv(node)) return false;
  if (has_vnni()) return true;
  const Value* x = node.input(0);
  const Tensor* weights = constant_input(node, 1);
  if (x == nullptr || weights == nullptr || !within_saturation_free_range(*weights)) return false;
  // oneDNN's own int8 X is not exact: it halves the weights (its s8s8 scale adjustment) to
  // keep X + 128 from saturating, and rounds odd ones. The Conv kernel shifts X to uint8
  // itself instead (shifted_int8_x), padding it with the shifted zero.
  return x->dtype() == DataType::UInt8 || (x->dtype() == DataType::Int8 && constant_bias_conv(node));
}

bool shifted_int8_x(const Node& node) {
  const Value* x = node.input(0);
  return !has_vnni() && x != nullptr && x->dtype() == DataType::Int8;
}

dnnl::primitive_attr requantize_attr(const native::Requantization& r, int channel_dim) {
  dnnl::primitive_attr attr;
  attr.set_output_scales(r.scale.size() == 1 ? 0 : 1 << channel_dim, r.scale);
  dnnl::post_ops post_ops;
  // Clipping before the rounding equals clipping after it: lo and hi are integers.
  post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, static_cast<float>(r.lo), static_cast<float>(r.hi));
  attr.set_post_ops(post_ops);
  return attr;
}

bool bias_sum_exact(const Tensor* weights, const Tensor* bias, std::int64_t channels, std::int64_t count,
                    std::int64_t stride_channel, std::int64_t stride_tap, std::int64_t x_max) {
  if (weights == nullptr || bias == nullptr) return false;
  constexpr std::int64_t exact_limit = std::int64_t{1} << 24;
  const std::int8_t* w = weights->data<std::int8_t>();
  const std::int32_t* b = bias->data<std::int32_t>();
  for (std::int64_t c = 0; c < channels; ++c) {
    std::int64_t bound = std::llabs(b[c]);
    for (std::int64_t t = 0; t < count; ++t) bound += x_max * std::llabs(w[c * stride_channel + t * stride_tap]);
    if (bound >= exact_limit) return false;
  }
  return true;
}

const Tensor* constant_input(const Node& node, std::size_t index) {
  const Value* value = node.input(index);
  return value == nullptr ? nullptr : value->constant();
}

} // namespace tern::cpu::onednn

namespace tern::cpu {

std::string int8_primitives_support(const KernelQuery& query) {
  if (onednn::int8_primitives_exact(query.node)) return {};
  return "oneDNN's int8 primitives are exact on this CPU (no VNNI) only for constant weights within ±63 "
         "(tern quantize --reduce-range) with uint8 X (--optimize-signs), or int8 X into a Conv with a constant bias; "
         "never taken for a 1x1 Conv with strides and pads";
}

} // namespace tern::cpu
