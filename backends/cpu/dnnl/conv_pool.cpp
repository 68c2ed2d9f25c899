// Conv followed by a MaxPool that is its only reader, run as one step: the scheduler's
// "Conv+MaxPool" fusion (core/src/scheduler.cpp), which it uses only while nobody observes
// the Conv's output. The convolution writes its own layout (channel blocks of 8 or 16) into
// scratch, and the kernel pools that layout itself straight into Tern's plain tensor: no
// reorder of the Conv's output at all, and oneDNN 2.6's pooling is slow on AVX2 (1.5 ms for
// LeNet's first 2x2 pool at batch 64, a fifth of the network; this loop takes a sixth of
// that). The maximum of the same floats, so the same values.
#include "conv.hpp"
#include "dnnl_ops.hpp"
#include "layout.hpp"
#include "pool.hpp"

#include "native/pool_window.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <vector>

namespace tern::cpu {
namespace {

using namespace onednn;
using native::Dims3;
using native::PoolGeometry;

/// Where element (n, c, d, h, w) of a layout with at most one block, of channels, lies:
/// n · stride[0] + (c / block) · stride[1] + ... + c % block (plain and channels-last
/// layouts are block 1).
struct ChannelBlocks {
  std::int64_t block = 1;
  std::int64_t n = 0, c = 0;
  Dims3 spatial{0, 0, 0}; ///< right-aligned: a missing axis has stride 0 (size 1)
};

/// The most channels a block may hold (oneDNN's are 4, 8 or 16).
constexpr std::int64_t widest_block = 64;

/// The convolution's output layout as ChannelBlocks, or a reason it is not one.
ChannelBlocks channel_blocks(const dnnl::memory::desc& md) {
  const dnnl_memory_desc_t& d = md.data;
  const auto& blocking = d.format_desc.blocking;
  check(d.format_kind == dnnl_blocked && d.ndims >= 3 && d.ndims <= 5 &&
            (blocking.inner_nblks == 0 || (blocking.inner_nblks == 1 && blocking.inner_idxs[0] == 1)),
        "the convolution chose a layout the fused max pool does not read (more than one block of channels)");
  ChannelBlocks layout;
  layout.block = blocking.inner_nblks == 1 ? blocking.inner_blks[0] : 1;
  check(layout.block <= widest_block, "the convolution chose blocks of more channels than the fused max pool reads");
  layout.n = blocking.strides[0];
  layout.c = blocking.strides[1];
  const int spatial = d.ndims - 2;
  for (int a = 0; a < spatial; ++a) layout.spatial[static_cast<std::size_t>(3 - spatial + a)] = blocking.strides[2 + a];
  return layout;
}

/// Pools x (channel-blocked as `layout`, [N, C, ...]) into plain y [N, C, positions...], one
/// block of B channels at a time: the B lanes of each tap in one vector maximum, in a local
/// accumulator (no aliasing, so the compiler keeps it in registers), the block's outputs
/// gathered in a tile and written plane by plane. B = 0: layout.block, known at run time.
template <std::int64_t B> void max_pool_blocks(const float* x, const ChannelBlocks& layout,
                                               const std::vector<std::int64_t>& offsets, std::int64_t taps,
                                               std::int64_t batch, std::int64_t channels, float* y) {
  const std::int64_t block = B > 0 ? B : layout.block;
  const std::int64_t blocks = (channels + block - 1) / block;
  const std::int64_t positions = static_cast<std::int64_t>(offsets.size()) / taps;
#pragma omp parallel
  {
    std::vector<float> tile(static_cast<std::size_t>(positions * block));
#pragma omp for
    for (std::int64_t nb = 0; nb < batch * blocks; ++nb) {
      const std::int64_t n = nb / blocks, first_channel = nb % blocks * block;
      const float* base = x + n * layout.n + first_channel / block * layout.c;
      const std::int64_t* window = offsets.data();
      for (std::int64_t p = 0; p < positions; ++p, window += taps) {
        float m[B > 0 ? B : widest_block];
        std::copy_n(base + window[0], block, m);
        for (std::int64_t t = 1; t < taps; ++t) {
          const float* tap = base + window[t];
          for (std::int64_t j = 0; j < block; ++j) m[j] = tap[j] > m[j] ? tap[j] : m[j];
        }
        std::copy_n(m, block, tile.data() + p * block);
      }
      const std::int64_t count = std::min(block, channels - first_channel);
      for (std::int64_t j = 0; j < count; ++j) {
        float* plane = y + (n * channels + first_channel + j) * positions;
        for (std::int64_t p = 0; p < positions; ++p) plane[p] = tile[static_cast<std::size_t>(p * block + j)];
      }
    }
  }
}

class ConvMaxPoolKernel final : public DnnlKernel {
public:
  /// `pool`: the MaxPool node; its input's producer is the Conv.
  explicit ConvMaxPoolKernel(const Node& pool) : DnnlKernel(pool), conv_(*pool.input(0)->producer(), /*fused=*/true) {}

private:
  // inputs: the Conv's (X, W, B); outputs: the MaxPool's Y.
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    const Shape conv_y = conv_.output_shape(inputs[0].shape(), inputs[1].shape());
    const Shape& y = outputs[0].shape();
    require(y.rank() == conv_y.rank(),
            [&] { return "Y " + y.to_string() + " must have the rank of the convolution's " + conv_y.to_string(); });
    conv_.prepare(inputs, conv_y);
    const dnnl::memory::desc between = conv_.dst_desc();
    intermediate_ = unbound(between);
    bound_ = nullptr;
    layout_ = channel_blocks(between);
    // The window as oneDNN's pooling would take it (ceil_mode's output size through the
    // end padding, which a maximum never reads).
    const Pooling pooling(node(), PoolKind::Max, conv_y, y);
    PoolGeometry window;
    const std::size_t spatial = y.rank() - 2, first = 3 - spatial;
    for (std::size_t a = 0; a < spatial; ++a) {
      window.in[first + a] = conv_y[2 + a];
      window.out[first + a] = y[2 + a];
      window.kernel[first + a] = pooling.kernel[a];
      window.stride[first + a] = pooling.strides[a];
      window.dilation[first + a] = pooling.dilations[a] + 1; // oneDNN counts the gaps
      window.pad[first + a] = pooling.pads_begin[a];
    }
    taps_ = window.kernel[0] * window.kernel[1] * window.kernel[2];
    offsets_ = native::window_offsets(window, layout_.spatial);
  }

  std::int64_t multiply_adds(std::span<const Tensor> inputs, std::span<Tensor> outputs) const override {
    (void)outputs; // the pool's: the Conv computes more
    const std::int64_t conv_outputs = conv_.output_shape(inputs[0].shape(), inputs[1].shape()).numel();
    return affine_multiply_adds(inputs[1], conv_outputs, inputs[1].shape()[0]);
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    void* buffer = scratch(ScratchSlot::Intermediate, intermediate_.get_desc().get_size());
    // Rebinding makes oneDNN zero a blocked layout's padding: only when the buffer moved.
    if (buffer != bound_) intermediate_.set_data_handle(buffer);
    bound_ = buffer;
    conv_.execute(inputs, intermediate_);
    const Shape& y = outputs[0].shape();
    const auto* x = static_cast<const float*>(buffer);
    float* out = outputs[0].data<float>();
    switch (layout_.block) {
    case 16: return max_pool_blocks<16>(x, layout_, offsets_, taps_, y[0], y[1], out);
    case 8: return max_pool_blocks<8>(x, layout_, offsets_, taps_, y[0], y[1], out);
    default: return max_pool_blocks<0>(x, layout_, offsets_, taps_, y[0], y[1], out);
    }
  }

  Convolution conv_;
  dnnl::memory intermediate_;         ///< the convolution's output, in its layout, in scratch
  void* bound_ = nullptr;             ///< the scratch buffer intermediate_ points to
  ChannelBlocks layout_;              ///< intermediate_'s layout
  std::int64_t taps_ = 1;             ///< taps per window
  std::vector<std::int64_t> offsets_; ///< native::window_offsets of the pool over layout_
};

} // namespace

std::string conv_max_pool_support(const KernelQuery& query) {
  const Node& pool = query.node;
  const Value* x = pool.input(0);
  if (x == nullptr || x->producer() == nullptr || x->producer()->op_type() != "Conv")
    return "MaxPool's input is not computed by a Conv";
  // Only the plain MaxPool: its Indices output has no oneDNN form (see pool.cpp).
  if (pool.outputs().size() != 1) return "MaxPool's Indices output has no oneDNN form";
  return conv_support(query); // the key's first inputs are the Conv's
}

std::unique_ptr<Kernel> make_conv_max_pool(const Node& pool) { return std::make_unique<ConvMaxPoolKernel>(pool); }

} // namespace tern::cpu
