// Conv, ConvTranspose and the pools: sliding windows over the spatial axes of an
// [N, C, D1, ...] input.
#include "builtin_schemas.hpp"
#include "fused_activation.hpp"
#include "integer_affine.hpp"
#include <tern/schema_helpers.hpp>

#include <tern/channels_last.hpp>
#include <tern/window.hpp>

#include <algorithm>

namespace tern::detail {
namespace {

using Ints = std::vector<std::int64_t>;

AttributeSpec auto_pad_attr() { return string_attr("auto_pad", "NOTSET"); }

/// How an op holds its X and Y, [N, C, D...] seen channels first: as they are (ONNX's ops),
/// channels last (the ChannelsLast ops) or in blocks of channels (the Blocked ops).
enum class Layout { ChannelsFirst, ChannelsLast, Blocks };

/// Input `i` of the op seen channels first. Blocks are [N, C/b, D..., b] with a known b;
/// a ConvBlocked's X may also be channels first (`plain_rank`: W's rank), a first layer's
/// image, whose few channels oneDNN reads as they are.
Shape channels_first_input(const InferenceContext& ctx, std::size_t i, Layout layout, std::size_t plain_rank = 0) {
  const Shape& shape = ctx.shape(i);
  if (layout != Layout::Blocks || shape.rank() == plain_rank)
    return channels_first_view(shape, layout == Layout::ChannelsLast);
  require_rank(ctx, i, 4, SIZE_MAX);
  ctx.require(shape.dims().back() >= 1,
              [&] { return describe_input(ctx, i) + " must end in a known channel block size"; });
  return channels_first_of_blocks(shape);
}

/// Attribute 'block' (ConvBlocked, ToChannelBlocks), checked to be positive.
std::int64_t block_attr(const InferenceContext& ctx) {
  const auto block = ctx.attr<std::int64_t>("block");
  ctx.require(block >= 1, [&] { return "attribute 'block' is " + std::to_string(block) + ", must be >= 1"; });
  return block;
}

/// Y [N, C, D...] in the op's layout, blocks of `block` channels for Layout::Blocks (the
/// last padded where they do not fill it).
Shape output_in(const Shape& y, Layout layout, std::int64_t block) {
  if (layout != Layout::Blocks) return in_layout(y, layout == Layout::ChannelsLast);
  return channel_blocks_shape(y, block);
}

/// [N, channels, spatial...]: sliding the node's window (tern::resolve_window, the one
/// shared with backends) with `kernel` over `x`, input 0 seen channels first.
Shape window_output(const InferenceContext& ctx, const Shape& x, const Ints& kernel, std::int64_t channels) {
  Ints dims{x[0], channels};
  const Ints spatial = window_output_sizes(ctx.node(), resolve_window(ctx.node(), x, kernel), x);
  dims.insert(dims.end(), spatial.begin(), spatial.end());
  return Shape(std::move(dims));
}

/// The kernel's spatial sizes: W's dimensions after the first two, or attribute kernel_shape,
/// which is redundant with them but also gives the ones W leaves dynamic.
Ints kernel_of(InferenceContext& ctx, const Shape& w) {
  Ints kernel(w.begin() + 2, w.end());
  if (!ctx.has_attr("kernel_shape")) return kernel;
  const auto declared = ctx.attr<Ints>("kernel_shape");
  ctx.require(declared.size() == kernel.size() &&
                  std::equal(kernel.begin(), kernel.end(), declared.begin(),
                             [](std::int64_t k, std::int64_t d) { return k == Shape::dynamic || k == d; }),
              [&] {
                return "attribute 'kernel_shape' " + ints_text(declared) +
                       " does not match the spatial dimensions of " + describe_input(ctx, 1);
              });
  return declared;
}

/// ConvChannelsLast's residual Z (fuse_residual_adds), added to the convolution before the
/// activation: float, Y's dtype and shape `y` (a dynamic dimension matching any).
void require_residual(InferenceContext& ctx, bool integer, const Shape& y) {
  ctx.require(!integer, "an integer convolution takes no residual input Z");
  require_same_dtype(ctx, 0, 3);
  const Shape& z = ctx.shape(3);
  const bool fits =
      z.rank() == y.rank() && std::equal(z.begin(), z.end(), y.begin(), [](std::int64_t a, std::int64_t b) {
        return a == b || a == Shape::dynamic || b == Shape::dynamic;
      });
  ctx.require(fits, [&] { return describe_input(ctx, 3) + " must have the output's shape " + y.to_string(); });
}

/// Conv, its X and Y in `layout` (ConvChannelsLast, ConvBlocked), W as ONNX's.
void infer_conv_in(InferenceContext& ctx, Layout layout) {
  const bool integer = integer_affine(ctx, 2);
  if (!integer) {
    require_float(ctx, 0);
    require_same_dtype(ctx, 0, 1);
  }
  require_rank(ctx, 0, 3, SIZE_MAX);
  const Shape x = channels_first_input(ctx, 0, layout, ctx.shape(1).rank());
  const Shape& w = ctx.shape(1);
  require_rank(ctx, 1, x.rank(), x.rank());
  const std::int64_t block = layout == Layout::Blocks ? block_attr(ctx) : 0;
  if (layout == Layout::Blocks && ctx.shape(0).rank() > w.rank())
    ctx.require(ctx.shape(0).dims().back() == block, [&] {
      return describe_input(ctx, 0) + " is not in blocks of attribute 'block' " + std::to_string(block);
    });

  const auto group = ctx.attr<std::int64_t>("group");
  ctx.require(group >= 1, [&] { return "attribute 'group' is " + std::to_string(group) + ", must be >= 1"; });
  // W is [M, C/group, k1, ...]: each of the `group` groups sees C/group input channels.
  if (x[1] != Shape::dynamic && w[1] != Shape::dynamic) {
    const std::int64_t channels =
        mul_dims(ctx, w[1], group, "the input channels of " + describe_input(ctx, 1) + " times attribute 'group'");
    // Blocks hold the channels padded to whole blocks.
    const bool blocked = layout == Layout::Blocks && ctx.shape(0).rank() > w.rank();
    const std::int64_t held = blocked ? (channels + block - 1) / block * block : channels;
    ctx.require(held == x[1], [&] {
      return describe_input(ctx, 1) + " takes " + std::to_string(w[1]) + " input channels per group x group " +
             std::to_string(group) + " = " + std::to_string(channels) + ", but " + describe_input(ctx, 0) + " has " +
             std::to_string(x[1]) + " channels" + (blocked ? " (padded to blocks)" : "");
    });
  }
  if (w[0] != Shape::dynamic)
    ctx.require(w[0] % group == 0, [&] {
      return describe_input(ctx, 1) + " has " + std::to_string(w[0]) + " output channels, not divisible by group " +
             std::to_string(group);
    });

  const Ints kernel = kernel_of(ctx, w);

  if (ctx.has_input(2)) {
    if (!integer) require_same_dtype(ctx, 0, 2);
    require_rank(ctx, 2, 1, 1);
    const std::int64_t b = ctx.shape(2)[0];
    ctx.require(b == Shape::dynamic || w[0] == Shape::dynamic || b == w[0], [&] {
      return describe_input(ctx, 2) + " must hold one bias per output channel (" + std::to_string(w[0]) + ")";
    });
  }
  check_fused_activation(ctx);
  const DataType y = affine_output_dtype(ctx, integer, w[0], "output channels of " + describe_input(ctx, 1));
  const Shape out = output_in(window_output(ctx, x, kernel, w[0]), layout, block);
  if (ctx.has_input(3)) require_residual(ctx, integer, out);
  ctx.set_output(0, y, out);
}

void infer_conv(InferenceContext& ctx) { infer_conv_in(ctx, Layout::ChannelsFirst); }
void infer_conv_channels_last(InferenceContext& ctx) { infer_conv_in(ctx, Layout::ChannelsLast); }
void infer_conv_blocked(InferenceContext& ctx) {
  require_float(ctx, 0);
  infer_conv_in(ctx, Layout::Blocks);
}

// ConvTranspose: W is [C, M/group, k1, ...] (input channels first, the transpose of Conv's),
// Y [N, M, ...] with the sizes tern::resolve_transposed_window gives (shared with kernels).
// With int8/uint8 X, int8 W and an int32 B, Y holds the int32 sums (integer_affine.hpp).
void infer_conv_transpose(InferenceContext& ctx) {
  const bool integer = integer_affine(ctx, 2);
  if (!integer) {
    require_float(ctx, 0);
    require_same_dtype(ctx, 0, 1);
  }
  require_rank(ctx, 0, 3, SIZE_MAX);
  const Shape& x = ctx.shape(0);
  const Shape& w = ctx.shape(1);
  require_rank(ctx, 1, x.rank(), x.rank());
  const auto group = ctx.attr<std::int64_t>("group");
  ctx.require(group >= 1, [&] { return "attribute 'group' is " + std::to_string(group) + ", must be >= 1"; });
  ctx.require(x[1] == Shape::dynamic || w[0] == Shape::dynamic || x[1] == w[0], [&] {
    return describe_input(ctx, 1) + " reads " + std::to_string(w[0]) + " input channels, " + describe_input(ctx, 0) +
           " has " + std::to_string(x[1]);
  });
  ctx.require(w[0] == Shape::dynamic || w[0] % group == 0, [&] {
    return describe_input(ctx, 1) + " has " + std::to_string(w[0]) + " input channels, not divisible by group " +
           std::to_string(group);
  });
  const Ints kernel = kernel_of(ctx, w);
  const std::int64_t channels =
      w[1] == Shape::dynamic ? Shape::dynamic : mul_dims(ctx, w[1], group, "the output channels of the ConvTranspose");
  if (ctx.has_input(2)) {
    if (!integer) require_same_dtype(ctx, 0, 2);
    require_rank(ctx, 2, 1, 1);
    const std::int64_t b = ctx.shape(2)[0];
    ctx.require(b == Shape::dynamic || channels == Shape::dynamic || b == channels, [&] {
      return describe_input(ctx, 2) + " must hold one bias per output channel (" + std::to_string(channels) + ")";
    });
  }
  Ints dims{x[0], channels};
  const Ints spatial = resolve_transposed_window(ctx.node(), x, kernel).output_sizes;
  dims.insert(dims.end(), spatial.begin(), spatial.end());
  ctx.set_output(0, integer ? DataType::Int32 : ctx.dtype(0), Shape(std::move(dims)));
}

/// The output shape of a pool (MaxPool, AveragePool: kernel_shape is required and checked
/// against the rank by resolve_window(); ceil_mode is read by window_output_sizes()), its
/// X and Y in `layout` (MaxPoolChannelsLast, MaxPoolBlocked).
Shape pool_output(const InferenceContext& ctx, Layout layout = Layout::ChannelsFirst) {
  require_rank(ctx, 0, 3, SIZE_MAX);
  const Shape x = channels_first_input(ctx, 0, layout);
  const Shape out = window_output(ctx, x, ctx.attr<Ints>("kernel_shape"), x[1]);
  return output_in(out, layout, ctx.shape(0).dims().back());
}

void infer_max_pool(InferenceContext& ctx) {
  // ONNX also defines MaxPool on int8 and uint8 (a max needs no arithmetic).
  require_numeric(ctx, 0);
  const auto order = ctx.attr<std::int64_t>("storage_order");
  ctx.require(order == 0 || order == 1, [&] {
    return "attribute 'storage_order' is " + std::to_string(order) + ", expected 0 (row major) or 1 (column major)";
  });
  const Shape out = pool_output(ctx);
  ctx.set_output(0, ctx.dtype(0), out);
  // The optional Indices output: flat positions of each maximum in the input.
  if (ctx.output_count() > 1) ctx.set_output(1, DataType::Int64, out);
}

// MaxPool on X [N, D..., C], Y [N, D'..., C] (no Indices): what channels_last_ops
// writes for the MaxPool between two channels-last Convs; or on channel blocks.
void infer_max_pool_in(InferenceContext& ctx, Layout layout) {
  require_numeric(ctx, 0);
  ctx.set_output(0, ctx.dtype(0), pool_output(ctx, layout));
}
void infer_max_pool_channels_last(InferenceContext& ctx) { infer_max_pool_in(ctx, Layout::ChannelsLast); }
void infer_max_pool_blocked(InferenceContext& ctx) {
  require_float(ctx, 0);
  infer_max_pool_in(ctx, Layout::Blocks);
}

void infer_average_pool(InferenceContext& ctx) {
  require_float(ctx, 0);
  ctx.set_output(0, ctx.dtype(0), pool_output(ctx));
}

/// GlobalAveragePool: Y [N, C, 1...] of X [N, C, D...], both in `layout`
/// (GlobalAveragePoolChannelsLast and GlobalAveragePoolBlocked: the squeeze-excitation
/// blocks' pool in a channels-last or blocked region).
void infer_global_pool(InferenceContext& ctx, Layout layout) {
  require_float(ctx, 0);
  require_rank(ctx, 0, 3, SIZE_MAX);
  Ints dims = channels_first_input(ctx, 0, layout).dims();
  std::fill(dims.begin() + 2, dims.end(), 1);
  ctx.set_output(0, ctx.dtype(0), output_in(Shape(std::move(dims)), layout, ctx.shape(0).dims().back()));
}
void infer_global_average_pool(InferenceContext& ctx) { infer_global_pool(ctx, Layout::ChannelsFirst); }
void infer_global_average_pool_channels_last(InferenceContext& ctx) { infer_global_pool(ctx, Layout::ChannelsLast); }
void infer_global_average_pool_blocked(InferenceContext& ctx) { infer_global_pool(ctx, Layout::Blocks); }

/// ToChannelBlocks: Y [N, ceil(C/b), D..., b] of a float X [N, C, D...], b the attribute
/// 'block'; where C does not fill the last block, its padding is zero.
void infer_to_channel_blocks(InferenceContext& ctx) {
  require_float(ctx, 0);
  require_rank(ctx, 0, 3, SIZE_MAX);
  ctx.set_output(0, ctx.dtype(0), output_in(ctx.shape(0), Layout::Blocks, block_attr(ctx)));
}

/// FromChannelBlocks: the channels-first Y [N, C, D...] of X [N, C/b, D..., b], C the
/// attribute 'channels' where the last block is padded (absent: every channel of X).
void infer_from_channel_blocks(InferenceContext& ctx) {
  require_float(ctx, 0);
  Shape y = channels_first_input(ctx, 0, Layout::Blocks);
  if (ctx.has_attr("channels")) {
    const auto channels = ctx.attr<std::int64_t>("channels");
    const std::int64_t block = ctx.shape(0).dims().back();
    ctx.require(channels >= 1 && (y[1] == Shape::dynamic || (channels <= y[1] && channels > y[1] - block)), [&] {
      return "attribute 'channels' is " + std::to_string(channels) + ", but " + describe_input(ctx, 0) + " holds " +
             std::to_string(y[1]) + " in blocks of " + std::to_string(block);
    });
    std::vector<std::int64_t> dims = y.dims();
    dims[1] = channels;
    y = Shape(std::move(dims));
  }
  ctx.set_output(0, ctx.dtype(0), y);
}

} // namespace

std::vector<OpSchema> conv_pool_schemas() {
  // pads, strides, dilations (and Conv's kernel_shape) have no schema default: ONNX's
  // depends on the input rank (or W), so resolve_window() and infer_conv() fill it in.
  const auto ints = [](const char* key) { return optional_attr(key, AttributeType::Ints); };
  const std::vector<AttributeSpec> conv_attrs = with_fused_requantize(with_fused_activation(
      {auto_pad_attr(), ints("dilations"), int_attr("group", 1), ints("kernel_shape"), ints("pads"), ints("strides")}));
  std::vector<AttributeSpec> blocked_conv_attrs = conv_attrs;
  blocked_conv_attrs.push_back(required_attr("block", AttributeType::Int));
  const std::vector<AttributeSpec> max_pool_attrs{auto_pad_attr(),   int_attr("ceil_mode", 0),
                                                  ints("dilations"), required_attr("kernel_shape", AttributeType::Ints),
                                                  ints("pads"),      int_attr("storage_order", 0),
                                                  ints("strides")};
  return {
      {"Conv", 2, 3, 1, 1, conv_attrs, infer_conv},
      // Tern's: Conv on X [N, D..., C] giving Y [N, D..., M] (W, B and attributes as
      // Conv's), what channels_last_ops writes where a backend runs it; a float one may
      // also take Z, a residual of Y's shape added before the activation (fuse_residual_adds)
      {"ConvChannelsLast", 2, 4, 1, 1, conv_attrs, infer_conv_channels_last},
      // Tern's: a float Conv on X [N, C/b, D..., b] (or a first layer's [N, C, D...]) giving
      // Y [N, M/b, D'..., b], b the attribute 'block'; what channel_blocks writes
      {"ConvBlocked", 2, 4, 1, 1, blocked_conv_attrs, infer_conv_blocked},
      {"ConvTranspose",
       2,
       3,
       1,
       1,
       {auto_pad_attr(), ints("dilations"), int_attr("group", 1), ints("kernel_shape"), ints("output_padding"),
        ints("output_shape"), ints("pads"), ints("strides")},
       infer_conv_transpose},
      {"MaxPool", 1, 1, 1, 2, max_pool_attrs, infer_max_pool},
      // Tern's: MaxPool on X [N, D..., C] (no Indices), what channels_last_ops writes.
      {"MaxPoolChannelsLast", 1, 1, 1, 1, max_pool_attrs, infer_max_pool_channels_last},
      // Tern's: float MaxPool on channel blocks [N, C/b, D..., b], what channel_blocks writes.
      {"MaxPoolBlocked", 1, 1, 1, 1, max_pool_attrs, infer_max_pool_blocked},
      {"AveragePool",
       1,
       1,
       1,
       1,
       {auto_pad_attr(), int_attr("ceil_mode", 0), int_attr("count_include_pad", 0),
        required_attr("kernel_shape", AttributeType::Ints), ints("pads"), ints("strides")},
       infer_average_pool},
      {"GlobalAveragePool", 1, 1, 1, 1, {}, infer_global_average_pool},
      // Tern's: GlobalAveragePool on X [N, D..., C], what channels_last_ops writes.
      {"GlobalAveragePoolChannelsLast", 1, 1, 1, 1, {}, infer_global_average_pool_channels_last},
      // Tern's: GlobalAveragePool on channel blocks, and the edges of a region of them
      // (channel_blocks): X [N, C, D...] to blocks of 'block' channels and back.
      {"GlobalAveragePoolBlocked", 1, 1, 1, 1, {}, infer_global_average_pool_blocked},
      {"ToChannelBlocks", 1, 1, 1, 1, {required_attr("block", AttributeType::Int)}, infer_to_channel_blocks},
      {"FromChannelBlocks", 1, 1, 1, 1, {optional_attr("channels", AttributeType::Int)}, infer_from_channel_blocks},
  };
}

} // namespace tern::detail
