#pragma once
// Relayout (layout.hpp) for 8-bit operands of oneDNN's int8 kernels: they want channels
// last (nwc, nhwc, ndhwc) and oneDNN 2.6's 8-bit reorders between that and Tern's nchw are
// slow, so a channels-last operand is transposed natively (native/transpose_matrices.hpp).
// Any other pair of layouts goes through Relayout. Only dnnl/*.cpp include this.

#include "layout.hpp"

namespace tern::cpu::onednn {

class ByteRelayout {
public:
  /// As Relayout::prepare.
  void prepare(const dnnl::memory::desc& plain, const dnnl::memory::desc& chosen, ScratchSlot slot);
  /// As Relayout::read: the tensor itself, or a copy in the chosen layout made now.
  const dnnl::memory& read(const Tensor& tensor);
  /// As Relayout::write; call written() after the primitive ran.
  const dnnl::memory& write(Tensor& tensor);
  /// Moves what the primitive wrote into the tensor given to write().
  void written();

private:
  Relayout relayout_;      ///< every case but the channels-last transpose
  bool transpose_ = false; ///< chosen is channels last of 1-byte elements
  dnnl::memory chosen_;    ///< over the scratch buffer when transposing
  ScratchSlot slot_ = ScratchSlot::Source;
  Tensor* target_ = nullptr; ///< the tensor of the last write()
  std::int64_t images_ = 0, channels_ = 0, spatial_ = 0;
};

} // namespace tern::cpu::onednn
