#pragma once
// The options of the PTQ passes, read once from PassContext::options with every key checked.

#include <tern/attributes.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace tern::ptq {

struct Options {
  std::string clipping_mode = "max";        ///< a name in the clipping table (max, mse, aa, kl, percentile)
  bool no_quant = false;                    ///< scale but do not round or clip (debugging: float accuracy)
  bool optimize_signs = false;              ///< non-negative values use the unsigned range
  bool single_shift = false;                ///< power-of-two rescales, the rest folded into weights
  bool use_cuda = false;                    ///< ranges and histograms on the "cuda" backend
  bool fold_graph = true;                   ///< fold weight quantizers into integer constants
  bool fake_quantize = false;               ///< keep float32 (true) or cast to integer types (false)
  bool verbose = false;                     ///< per-value report through PassContext::log
  bool per_channel = false;                 ///< one weight scale per output channel
  bool keep_float = false;                  ///< run nodes the PTQ cannot quantize in float instead of refusing
  bool equalize = true;                     ///< cross-layer equalisation of weight ranges before calibration
  bool bias_correction = true;              ///< correct biases for the mean error of rounded weights
  bool reduce_range = false;                ///< 8-bit weights within ±63 (exact on int8 kernels without VNNI)
  double percentile = 99.99;                ///< for clipping_mode "percentile"
  std::size_t bins = 2048;                  ///< histogram bins over [0, max|x|]
  std::vector<std::string> backends{"cpu"}; ///< where calibration runs (a preference list)
};

/// Reads `attributes`; throws naming any unknown key or a value of the wrong type.
Options read_options(const Attributes& attributes);

} // namespace tern::ptq
