#pragma once
// Operands in the layout a primitive chose (format_tag::any). Tern hands kernels plain
// row-major tensors, so a primitive that prefers a blocked layout (nChw16c, OIhw16i16o...)
// reads and writes per-thread scratch copies (scratch() in context.hpp), reordered in and
// out on every run; constant weights are reordered once. Memory objects are made once per
// shape and rebound to each run's tensors with set_data_handle: creating them per run costs
// more than small primitives do. Only dnnl/*.cpp include this.

#include "context.hpp"

#include <cstddef>
#include <optional>
#include <vector>

namespace tern::cpu::onednn {

/// A descriptor of `dims` leaving the layout to the primitive (format_tag::any).
dnnl::memory::desc any(const Dims& dims, dnnl::memory::data_type type = dnnl::memory::data_type::f32);
/// A float32 descriptor of `dims` ([N, C, spatial...], rank 3 to 5) with channels in blocks
/// of `block`, 16 or 8 (nCw16c, nChw16c, nCdhw16c...): AVX-512's or AVX2's width, the
/// blocked kernels' own layout.
dnnl::memory::desc channel_blocked(const Dims& dims, std::int64_t block = 16);
/// `dims` ([N, C, spatial...], rank 3 to 5) of `type` with the channels innermost (nwc,
/// nhwc, ndhwc): the layout of ConvChannelsLast's and MaxPoolChannelsLast's tensors.
dnnl::memory::desc channels_last(const Dims& dims, dnnl::memory::data_type type = dnnl::memory::data_type::f32);
/// The layout in which Tern's tensor of channels-first `dims` holds its elements: row-major,
/// or channels last for a ChannelsLast op's X and Y (`channels_last`).
dnnl::memory::desc tensor_desc(const Dims& dims, bool channels_last,
                               dnnl::memory::data_type type = dnnl::memory::data_type::f32);
/// How a float kernel's X and Y hold [N, C, D...]: row-major (ONNX's ops), channels last
/// (the ChannelsLast ops) or in blocks of channels (the Blocked ops, tern/channels_last.hpp).
enum class Layout { Plain, ChannelsLast, Blocks };
/// The channels-first view of a tensor of `shape` held in `layout`.
Shape channels_first_of(const Shape& shape, Layout layout);
/// The float32 descriptor of Tern's tensor of `shape` held in `layout`; for blocks whose
/// last is padded, `channels` is the real channel count (0: every channel the blocks hold).
dnnl::memory::desc held_desc(const Shape& shape, Layout layout, std::int64_t channels = 0);
/// True when oneDNN answered with a reference (unoptimised, C++ loop) implementation.
bool is_reference(const dnnl::primitive_desc_base& pd);

/// One operand of a primitive: Tern's plain tensor, seen through the primitive's chosen
/// layout. When both layouts are the same the tensor itself is used, otherwise a scratch
/// copy with a reorder (primitive made once per shape).
class Relayout {
public:
  /// Plans for `plain` (Tern's layout) against `chosen` (the primitive's), using `slot`.
  void prepare(const dnnl::memory::desc& plain, const dnnl::memory::desc& chosen, ScratchSlot slot);
  /// The memory the primitive reads: `tensor` itself, or a copy reordered into it now.
  const dnnl::memory& read(const Tensor& tensor);
  /// The memory the primitive writes for `tensor`; call written() after the primitive ran.
  const dnnl::memory& write(Tensor& tensor);
  /// Reorders the scratch copy into the tensor given to write(), when there is one.
  void written();
  bool reordered() const { return reorder_.has_value(); }

private:
  /// Binds chosen_ to the slot's scratch buffer (rebinding only when the buffer moved).
  void bind_scratch();

  dnnl::memory plain_, chosen_;
  std::optional<Primitive> reorder_;
  ScratchSlot slot_ = ScratchSlot::Source;
  void* bound_ = nullptr; ///< the scratch buffer chosen_ points to
};

/// The weights operand of a Conv or Gemm. Constant weights (initializers) are reordered
/// into the chosen layout once and kept per layout, so a batch size that keeps the layout
/// (or comes back to an earlier one) reorders nothing; computed weights may change between
/// runs and are reordered on every run, through the Weights scratch slot.
class WeightsOperand {
public:
  explicit WeightsOperand(bool constant) : constant_(constant) {}
  bool constant() const { return constant_; }
  void prepare(const dnnl::memory::desc& plain, const dnnl::memory::desc& chosen);
  /// The weights in the chosen layout for this run.
  const dnnl::memory& read(const Tensor& weights);

private:
  struct Packed {
    dnnl::memory memory; ///< owns its buffer, in the chosen layout
    bool filled = false;
  };

  const bool constant_;
  dnnl::memory::desc plain_;
  Relayout relayout_;                  ///< used when not packed: plain, or computed weights
  std::vector<Packed> packed_;         ///< constant weights, one per chosen layout seen
  std::optional<std::size_t> current_; ///< index in packed_ for this shape, if packed
};

} // namespace tern::cpu::onednn
