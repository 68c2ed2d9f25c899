#pragma once
// The float convolution of one Conv node, shared by the Conv kernel (conv.cpp) and the
// fused Conv+MaxPool kernel (conv_pool.cpp), which reads the result in oneDNN's own layout
// instead of Tern's. Only dnnl/*.cpp include this.

#include "context.hpp"
#include "layout.hpp"

#include <unordered_map>

namespace tern::cpu::onednn {

class Convolution {
public:
  /// `node`: a float Conv, which must outlive this object (the plan's graph does).
  /// `fused`: run inside another node's kernel (Conv+MaxPool), whose node the scheduler
  /// names in errors: then messages name this Conv too. `channels_last`: a ConvChannelsLast,
  /// whose X and Y are [N, D..., C] (W, B and the attributes are Conv's).
  explicit Convolution(const Node& node, bool fused = false, bool channels_last = false);

  /// Y's shape for X and W (the node's window over X, W's output channels), channels first.
  Shape output_shape(const Shape& x, const Shape& w) const;
  /// Checks X, W (and B) against each other and Y, then builds the primitive.
  void prepare(std::span<const Tensor> inputs, const Shape& y);
  /// The layout the primitive writes Y in (16-channel blocks where it can, see conv.cpp).
  dnnl::memory::desc dst_desc() const { return pd_.dst_desc(); }
  /// The layout Tern's tensor of `shape` (X or Y) has: plain, or channels last; the dims
  /// are channels first either way, as oneDNN's descriptors have them.
  dnnl::memory::desc user_desc(const Shape& shape) const;
  /// Convolves `inputs` into `dst`, memory of dst_desc().
  void execute(std::span<const Tensor> inputs, const dnnl::memory& dst);

private:
  [[noreturn]] void fail(const std::string& message) const;
  void require(bool condition, const std::string& message) const {
    if (!condition) fail(message);
  }
  /// require() whose message is built only on failure.
  template <class MakeMessage>
  requires std::is_invocable_r_v<std::string, MakeMessage>
  void require(bool condition, MakeMessage&& make_message) const {
    if (!condition) fail(make_message());
  }

  /// How a ConvChannelsLast's residual Z reaches the sum (see prepare).
  enum class Residual { None, Read, Accumulated };

  const Node& node_;
  const bool fused_;
  const bool channels_last_;
  Residual residual_ = Residual::None;
  dnnl::convolution_forward::primitive_desc pd_;
  Primitive conv_;
  Relayout src_;
  WeightsOperand weights_;
  std::unordered_map<int, dnnl::memory> args_; ///< kept between runs: only the buffers change
};

} // namespace tern::cpu::onednn
