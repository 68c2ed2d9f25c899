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
  /// names in errors: then messages name this Conv too. `layout`: how X and Y hold their
  /// values, channels last for a ConvChannelsLast, in blocks for a ConvBlocked (whose X may
  /// also be a plain image); W, B and the attributes are Conv's.
  explicit Convolution(const Node& node, bool fused = false, Layout layout = Layout::Plain);

  /// Y's shape for X and W (the node's window over X, W's output channels), channels first.
  Shape output_shape(const Shape& x, const Shape& w) const;
  /// Checks X, W (and B) against each other and Y, then builds the primitive.
  void prepare(std::span<const Tensor> inputs, const Shape& y);
  /// The layout the primitive writes Y in (16-channel blocks where it can, see conv.cpp).
  dnnl::memory::desc dst_desc() const { return pd_.dst_desc(); }
  /// The layout Tern's Y has (after prepare): plain, channels last or in blocks; the dims
  /// are channels first, as oneDNN's descriptors have them.
  const dnnl::memory::desc& held_y_desc() const { return held_y_; }
  /// Convolves `inputs` into `dst`, memory of dst_desc().
  void execute(std::span<const Tensor> inputs, const dnnl::memory& dst);

private:
  /// The layout of a tensor of `shape`: layout_, except a ConvBlocked's plain X (an image).
  Layout layout_of(const Shape& shape) const;
  /// `shape`, the channels-first view of X or Y held as `view`, with `channels` channels
  /// where `view` is in blocks whose last pads them to `shape`'s; otherwise as it is.
  Shape unpadded(const Shape& shape, const Shape& view, std::int64_t channels) const;
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

  /// How a ConvChannelsLast's or ConvBlocked's residual Z reaches the sum (see prepare).
  enum class Residual { None, Read, Accumulated };

  const Node& node_;
  const bool fused_;
  const Layout layout_;
  const std::size_t plain_rank_; ///< the rank of a plain X or Y: W's
  Residual residual_ = Residual::None;
  dnnl::convolution_forward::primitive_desc pd_;
  dnnl::memory::desc held_y_;
  Primitive conv_;
  Relayout src_;
  WeightsOperand weights_;
  std::unordered_map<int, dnnl::memory> args_; ///< kept between runs: only the buffers change
};

} // namespace tern::cpu::onednn
