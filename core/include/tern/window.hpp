#pragma once
/// \file window.hpp
/// Sliding-window geometry (Conv, MaxPool, AveragePool): ONNX's rank-dependent defaults
/// filled in and auto_pad resolved into explicit pads. Shape inference uses exactly these
/// functions, so a backend that calls them computes the shapes the scheduler allocated.

#include <tern/graph.hpp>
#include <tern/shape.hpp>

#include <cstdint>
#include <vector>

namespace tern {

/// The window of one node, one entry per spatial axis (the input's axes 2, 3, ...).
/// An entry is Shape::dynamic only when it cannot be known before running: a kernel size
/// taken from a dynamic weight dimension, or a SAME_* pad over a dynamic input size.
/// With the static shapes a backend sees at run time, every entry is a number.
struct Window {
  std::vector<std::int64_t> kernel;     ///< kernel size (>= 1)
  std::vector<std::int64_t> strides;    ///< step between windows (>= 1; ONNX default 1)
  std::vector<std::int64_t> dilations;  ///< spacing of kernel taps (>= 1; ONNX default 1)
  std::vector<std::int64_t> pads_begin; ///< implicit zeros before the first element (>= 0)
  std::vector<std::int64_t> pads_end;   ///< implicit zeros after the last element (>= 0)
};

/// Reads `node`'s strides, dilations, pads and auto_pad (absent attributes take ONNX's
/// defaults: 1, 1, 0 and NOTSET) over an [N, C, D1, ...] `input` with one `kernel_shape`
/// entry per spatial axis. VALID means no padding; SAME_UPPER and SAME_LOWER pad so that
/// the output size is ceil(D / stride), the odd pad going at the end (UPPER) or the
/// beginning (LOWER). Throws tern::Error naming the node for: a rank that does not match
/// kernel_shape, lists of the wrong length, kernel/strides/dilations < 1, pads < 0, an
/// unknown auto_pad, and pads given together with an auto_pad other than NOTSET.
Window resolve_window(const Node& node, const Shape& input, const std::vector<std::int64_t>& kernel_shape);

/// The spatial output sizes of sliding `window` over `input` ([N, C, D1, ...]):
/// floor((D + pad_begin + pad_end - dilation * (kernel - 1) - 1) / stride) + 1, or with
/// the node's ceil_mode (absent = 0; Conv has none) rounded up, dropping a last window that
/// would start inside the end padding (PyTorch, ONNX MaxPool-22). Shape::dynamic where an
/// input size or a window entry is dynamic. Throws tern::Error naming the node when the
/// dilated kernel is larger than the padded input.
std::vector<std::int64_t> window_output_sizes(const Node& node, const Window& window, const Shape& input);

/// ConvTranspose's geometry over an [N, C, D1, ...] `input`: its window (strides, dilations
/// and pads with ONNX's defaults; the pads crop the full output) and the spatial output
/// sizes. Without output_shape: stride * (D - 1) + output_padding + dilation * (kernel - 1)
/// + 1 - pad_begin - pad_end, SAME_* making it D * stride. With output_shape (or SAME_*),
/// the pads are what gives that size: the total split evenly, its odd element at the end
/// for SAME_UPPER and at the beginning otherwise (ONNX's ConvTranspose formula); a total
/// below zero pads the output with positions no input reaches. Entries are Shape::dynamic
/// where an input size or the kernel is. Throws tern::Error naming the node for bad
/// attributes (see resolve_window) and output_padding outside [0, max(stride, dilation)).
struct TransposedWindow {
  Window window;
  std::vector<std::int64_t> output_sizes;
};
TransposedWindow resolve_transposed_window(const Node& node, const Shape& input,
                                           const std::vector<std::int64_t>& kernel_shape);

} // namespace tern
