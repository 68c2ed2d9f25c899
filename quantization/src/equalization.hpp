#pragma once
// Cross-layer equalisation (Nagel et al., "Data-Free Quantization", 2019): for two affine
// nodes (Conv, grouped and depthwise included, or Gemm) joined by positively homogeneous
// ops (Relu, MaxPool, a flatten), output channel c of the first is divided by s_c and the
// matching inputs of the second multiplied by s_c, with s_c = sqrt(r1_c / r2_c), so both
// weight ranges become sqrt(r1_c · r2_c). The network computes the same function; per-tensor
// weight scales then waste far fewer levels. A ReLU6 (Clip(0, 6)) between them becomes a
// ReLU, as in AIMET: the one place where the float function may change.

#include <tern/graph.hpp>

#include <cstddef>

namespace tern::ptq {

/// Equalises every eligible pair, sweeping over them until they are all balanced; returns
/// the number of pairs.
std::size_t equalize_cross_layer(Graph& graph);

} // namespace tern::ptq
