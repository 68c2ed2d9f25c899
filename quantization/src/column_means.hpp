#pragma once
// The means of the rows of an affine node's input matrix (im2col's rows for a Conv), over
// the calibration set: for a Conv, per input channel and kernel tap, the mean over the
// batch and the output positions of the input value that tap reads (zero where it falls in
// the padding); for a Gemm/MatMul, per input feature. E[W x] of every output channel is
// then exactly Σ w · mean over that channel's weights, padding included — what bias
// correction compares between the float and the quantized network.

#include <tern/graph.hpp>
#include <tern/tensor.hpp>

#include <cstdint>
#include <vector>

namespace tern::ptq {

class ColumnMeans {
public:
  /// `node` (Conv, Gemm or MatMul with weights of shape `weights`) must outlive this object.
  ColumnMeans(const Node& node, const Shape& weights);

  /// Adds one batch of the node's first input (host, float32).
  void add(const Tensor& input);
  /// One mean per column: Conv (input channel · taps + tap), Gemm/MatMul input feature.
  std::vector<double> means() const;

private:
  void prepare_offsets(const Shape& shape);

  const Node& node_;
  std::vector<std::int64_t> kernel_; ///< empty for Gemm/MatMul
  Shape offsets_for_;
  std::vector<std::vector<std::size_t>> offsets_; ///< per tap, the input offsets it reads
  std::size_t positions_ = 0;                     ///< output positions per sample
  std::vector<double> sums_;
  double count_ = 0; ///< samples · output positions
};

} // namespace tern::ptq
