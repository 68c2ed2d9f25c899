// Sliding-window geometry: the one implementation shared by shape inference (Conv and the
// pools in ops/conv_pool.cpp) and the backends' kernels.
#include <tern/window.hpp>

#include <tern/checked_math.hpp>
#include <tern/schema_helpers.hpp>

#include <algorithm>
#include <optional>
#include <string>

namespace tern {
namespace {

using Ints = std::vector<std::int64_t>;
using detail::ints_text;
constexpr std::int64_t dynamic = Shape::dynamic;

/// Throws like InferenceContext::fail: "node 'conv1' (Conv): <message>".
void require(const Node& node, bool condition, const std::string& message) {
  if (!condition) throw Error(node.describe() + ": " + message);
}

/// Attribute `key` with `count` values, or `count` copies of `fill` when the node has none.
Ints per_axis(const Node& node, const std::string& key, std::size_t count, std::int64_t fill) {
  if (!node.attrs().has(key)) return Ints(count, fill);
  const auto& values = node.attrs().get<Ints>(key);
  require(node, values.size() == count,
          "attribute '" + key + "' " + ints_text(values) + " has " + std::to_string(values.size()) +
              " values, expected " + std::to_string(count) + " for the input's spatial axes");
  return values;
}

void require_all_at_least(const Node& node, const std::string& key, const Ints& values, std::int64_t low) {
  require(node, std::all_of(values.begin(), values.end(), [low](std::int64_t v) { return v == dynamic || v >= low; }),
          key + " " + ints_text(values) + " must all be >= " + std::to_string(low));
}

/// How the window arithmetic of spatial `axis` names itself when it overflows int64
/// (kernel, stride, dilation and pad values all come from the model).
auto overflow_where(const Node& node, std::size_t axis) {
  return [&node, axis] { return node.describe() + ": the window over spatial axis " + std::to_string(axis); };
}

/// The span of a dilated kernel: dilation * (kernel - 1) + 1, checked.
std::int64_t kernel_extent(const Node& node, std::size_t axis, std::int64_t kernel, std::int64_t dilation) {
  const auto where = overflow_where(node, axis);
  return checked_add(checked_mul(dilation, kernel - 1, where), 1, where);
}

/// The total SAME_* padding of one axis: enough for ceil(in / stride) windows. Every
/// operand is >= 0 (kernel, stride, dilation >= 1), so only overflow needs checking.
std::int64_t same_total_pad(const Node& node, std::size_t axis, std::int64_t in, std::int64_t kernel,
                            std::int64_t stride, std::int64_t dilation) {
  const auto where = overflow_where(node, axis);
  const std::int64_t out = in / stride + (in % stride != 0 ? 1 : 0); // ceil without in + stride - 1
  const std::int64_t extent = kernel_extent(node, axis, kernel, dilation);
  const std::int64_t covered = checked_add(checked_mul(out - 1, stride, where), extent, where);
  return std::max<std::int64_t>(0, covered - in);
}

/// Checks the input's rank against the kernel and auto_pad against pads; returns auto_pad.
std::string checked_auto_pad(const Node& node, const Shape& input, const Ints& kernel_shape) {
  const std::size_t spatial = kernel_shape.size();
  require(node, input.rank() == spatial + 2,
          "kernel_shape " + ints_text(kernel_shape) + " has " + std::to_string(spatial) +
              " values, expected one per spatial axis of the input " + input.to_string());
  const auto auto_pad = node.attrs().get_or<std::string>("auto_pad", "NOTSET");
  require(node, auto_pad == "NOTSET" || auto_pad == "VALID" || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER",
          "attribute 'auto_pad' is '" + auto_pad + "'; expected NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  require(node, auto_pad == "NOTSET" || !node.attrs().has("pads"),
          "attributes 'pads' and 'auto_pad' (" + auto_pad + ") cannot both be set");
  return auto_pad;
}

} // namespace

Window resolve_window(const Node& node, const Shape& input, const Ints& kernel_shape) {
  const std::size_t spatial = kernel_shape.size();
  const std::string auto_pad = checked_auto_pad(node, input, kernel_shape);

  const Ints pads = per_axis(node, "pads", 2 * spatial, 0); // ONNX: all begins, then all ends
  Window w{kernel_shape, per_axis(node, "strides", spatial, 1), per_axis(node, "dilations", spatial, 1),
           Ints(pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(spatial)),
           Ints(pads.begin() + static_cast<std::ptrdiff_t>(spatial), pads.end())};
  require_all_at_least(node, "kernel_shape", w.kernel, 1);
  require_all_at_least(node, "strides", w.strides, 1);
  require_all_at_least(node, "dilations", w.dilations, 1);
  require_all_at_least(node, "pads", pads, 0);

  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (std::size_t axis = 0; axis < spatial; ++axis) {
      const std::int64_t in = input[axis + 2];
      if (in == dynamic || w.kernel[axis] == dynamic) {
        w.pads_begin[axis] = w.pads_end[axis] = dynamic; // known once the sizes are
        continue;
      }
      const std::int64_t total = same_total_pad(node, axis, in, w.kernel[axis], w.strides[axis], w.dilations[axis]);
      // An odd total puts the extra element at the end (UPPER) or the beginning (LOWER).
      const std::int64_t small = total / 2;
      w.pads_begin[axis] = auto_pad == "SAME_UPPER" ? small : total - small;
      w.pads_end[axis] = total - w.pads_begin[axis];
    }
  }
  return w; // VALID: the zero pads per_axis() gave, since 'pads' cannot be set with it
}

Ints window_output_sizes(const Node& node, const Window& w, const Shape& input) {
  const std::size_t spatial = w.kernel.size();
  require(node, input.rank() == spatial + 2,
          "a window over " + std::to_string(spatial) + " spatial axes does not fit the input " + input.to_string());
  const bool ceil_mode = node.attrs().get_or<std::int64_t>("ceil_mode", 0) != 0;
  Ints sizes;
  for (std::size_t axis = 0; axis < spatial; ++axis) {
    const std::int64_t in = input[axis + 2];
    const std::int64_t begin = w.pads_begin[axis];
    const std::int64_t end = w.pads_end[axis];
    if (in == dynamic || w.kernel[axis] == dynamic || begin == dynamic || end == dynamic) {
      sizes.push_back(dynamic);
      continue;
    }
    const std::int64_t stride = w.strides[axis];
    const auto where = overflow_where(node, axis);
    const std::int64_t extent = kernel_extent(node, axis, w.kernel[axis], w.dilations[axis]);
    const std::int64_t padded = checked_add(checked_add(in, begin, where), end, where);
    const std::int64_t room = padded - extent; // both >= 0: cannot overflow
    require(node, room >= 0,
            "spatial axis " + std::to_string(axis) + ": the kernel spans " + std::to_string(extent) +
                " (kernel_shape " + ints_text(w.kernel) + ", dilations " + ints_text(w.dilations) +
                ") but the padded input has only " + std::to_string(padded));
    // ceil(room / stride) without room + stride - 1, which could overflow.
    std::int64_t out = room / stride + (ceil_mode && room % stride != 0 ? 1 : 0) + 1;
    // ceil_mode: every window must see at least one real element, i.e. drop the last when
    // (out - 1) * stride >= in + begin; compared as out - 1 >= ceil((in + begin) / stride).
    const std::int64_t real_end = in + begin; // <= padded: fits
    if (ceil_mode && out - 1 >= real_end / stride + (real_end % stride != 0 ? 1 : 0)) --out;
    sizes.push_back(out);
  }
  return sizes;
}

TransposedWindow resolve_transposed_window(const Node& node, const Shape& input, const Ints& kernel_shape) {
  const std::size_t spatial = kernel_shape.size();
  const std::string auto_pad = checked_auto_pad(node, input, kernel_shape);
  const Ints pads = per_axis(node, "pads", 2 * spatial, 0);
  TransposedWindow result{{kernel_shape, per_axis(node, "strides", spatial, 1), per_axis(node, "dilations", spatial, 1),
                           Ints(pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(spatial)),
                           Ints(pads.begin() + static_cast<std::ptrdiff_t>(spatial), pads.end())},
                          {}};
  Window& w = result.window;
  require_all_at_least(node, "kernel_shape", w.kernel, 1);
  require_all_at_least(node, "strides", w.strides, 1);
  require_all_at_least(node, "dilations", w.dilations, 1);
  require_all_at_least(node, "pads", pads, 0);
  const Ints output_padding = per_axis(node, "output_padding", spatial, 0);
  // output_shape lists the spatial sizes; some exporters write N and C in front too.
  std::optional<Ints> output_shape;
  if (node.attrs().has("output_shape")) {
    Ints declared = node.attrs().get<Ints>("output_shape");
    if (declared.size() == spatial + 2) declared.erase(declared.begin(), declared.begin() + 2);
    require(node, declared.size() == spatial,
            "attribute 'output_shape' " + ints_text(declared) + " needs one size per spatial axis (" +
                std::to_string(spatial) + ")");
    require_all_at_least(node, "output_shape", declared, 1);
    output_shape = std::move(declared);
  }
  for (std::size_t axis = 0; axis < spatial; ++axis) {
    const std::int64_t in = input[axis + 2];
    const std::int64_t padding = output_padding[axis];
    require(node, padding >= 0 && padding < std::max(w.strides[axis], w.dilations[axis]),
            "attribute 'output_padding' " + ints_text(output_padding) +
                " must be >= 0 and below the stride or the dilation of its axis");
    if (in == dynamic || w.kernel[axis] == dynamic) {
      if (auto_pad != "NOTSET" || output_shape) w.pads_begin[axis] = w.pads_end[axis] = dynamic;
      result.output_sizes.push_back(output_shape ? (*output_shape)[axis] : dynamic);
      continue;
    }
    const auto where = overflow_where(node, axis);
    // The full output: every input position's kernel footprint, uncropped.
    const std::int64_t full = checked_add(checked_add(checked_mul(w.strides[axis], in - 1, where), padding, where),
                                          kernel_extent(node, axis, w.kernel[axis], w.dilations[axis]), where);
    std::optional<std::int64_t> wanted;
    if (output_shape)
      wanted = (*output_shape)[axis];
    else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER")
      wanted = checked_mul(in, w.strides[axis], where);
    if (wanted) {
      const std::int64_t total = full - *wanted;
      // Halved rounding down, as ONNX's formula (Python) does: a total of -1 (output_shape
      // one past the full output) adds the unreached position at the end.
      const std::int64_t half = total >= 0 ? total / 2 : -((1 - total) / 2);
      w.pads_begin[axis] = auto_pad == "SAME_UPPER" ? half : total - half;
      w.pads_end[axis] = total - w.pads_begin[axis];
    }
    const std::int64_t out = full - w.pads_begin[axis] - w.pads_end[axis];
    require(node, out >= 1,
            "spatial axis " + std::to_string(axis) + ": pads " + ints_text(pads) + " crop all " + std::to_string(full) +
                " output positions");
    result.output_sizes.push_back(out);
  }
  return result;
}

} // namespace tern
