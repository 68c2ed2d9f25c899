#pragma once
// The oneDNN pooling of one MaxPool, AveragePool or GlobalAveragePool node, shared by the
// pool kernels (pool.cpp) and the fused Conv+MaxPool kernel (conv_pool.cpp), which pools
// the convolution's own layout. Only dnnl/*.cpp include this.

#include "context.hpp"

#include <vector>

namespace tern::cpu::onednn {

enum class PoolKind { Max, Average, GlobalAverage };

/// A node's pooling window resolved for one X and Y shape.
struct Pooling {
  dnnl::algorithm algorithm;
  Dims strides, kernel, dilations, pads_begin, pads_end;
  /// Per spatial axis and output index, the factor that turns oneDNN's average into
  /// ONNX's where a window reaches into the extra ceil_mode padding; empty: none needed.
  std::vector<std::vector<float>> divisor_fix;

  /// The pooling of `node` (of `kind`) from X to Y; ceil_mode's output size is honoured by
  /// enlarging the end padding until oneDNN's floor formula gives it.
  Pooling(const Node& node, PoolKind kind, const Shape& x, const Shape& y);
  /// The primitive reading `src` and writing `dst` (which may leave its layout to oneDNN),
  /// with a user scratchpad (for Primitive).
  dnnl::pooling_v2_forward::primitive_desc primitive_desc(const dnnl::memory::desc& src,
                                                          const dnnl::memory::desc& dst) const;
};

} // namespace tern::cpu::onednn
