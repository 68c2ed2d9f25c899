#include "clipping.hpp"

#include <iterator>

namespace tern::ptq {
namespace {

constexpr ClippingMode clipping_table[] = {
    {"max", max_threshold, false, "no clipping: the largest |x| seen"},
    {"mse", mse_threshold, true, "least mean squared quantization error over the histogram"},
    {"aa", aa_threshold, true, "least mean absolute quantization error over the histogram"},
    {"kl", kl_threshold, true, "least KL divergence between the float and quantized histograms"},
    {"percentile", percentile_threshold, true, "the given percentile of |x| (option percentile, default 99.99)"},
};

} // namespace

const ClippingMode* find_clipping(const std::string& name) {
  for (const ClippingMode& mode : clipping_table)
    if (name == mode.name) return &mode;
  return nullptr;
}

std::string clipping_names() {
  std::string names;
  for (const ClippingMode& mode : clipping_table) names += (names.empty() ? "" : ", ") + std::string(mode.name);
  return names;
}

} // namespace tern::ptq
