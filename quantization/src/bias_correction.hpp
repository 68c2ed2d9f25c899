#pragma once
// Empirical bias correction (Nagel et al. 2019, "Data-Free Quantization", section 4.2, with
// the expectations measured on the calibration set): after quantize, every affine node's
// bias is shifted so that the mean of its output per channel, E[W̃ x̃ + b̃], equals the float
// network's E[W x + b]. The difference has two sources: rounding (and clipping) the
// weights, W̃ ≠ W, and everything upstream, x̃ ≠ x — at 4 bits mostly the clipping of the
// activations, which lowers the mean of what the next layer reads. Only the first would be
// seen from the float network alone; the second needs the quantized one, run here.

#include "options.hpp"

#include <tern/pass.hpp>

namespace tern::ptq {

/// Node meta written by quantize on each affine node it leaves a bias path to: the float
/// network's per-channel means of the node's input over the calibration set.
inline constexpr const char* input_means_key = "quantization.ptq.input_means";

/// Runs the quantized (not yet folded) graph over the calibration batches and shifts the
/// float bias of every node carrying input_means_key; removes that meta. Passes repeat
/// (up to `max_passes`) because correcting a node moves what the nodes after it read.
void correct_biases(Graph& graph, PassContext& context, const Options& options);

} // namespace tern::ptq
