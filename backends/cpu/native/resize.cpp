// Resize (float32, and int8/uint8 for quantized networks): nearest and n-linear, with the
// coordinate_transformation_modes and nearest_modes the schema accepts. Follows the ONNX reference implementation
// (onnx/reference/ops/op_resize.py): each output coordinate x maps to an input coordinate
// x_original per axis; nearest picks one neighbour, linear blends floor(x_original) and the
// next one; neighbours outside the input take the edge value (the reference pads with
// "edge"). Axes are independent, so the mapping is tabulated once per axis and run. An
// 8-bit blend is rounded (half to even) from the float32 a float Resize would write, so
// the integer network equals its fake-quantized form (Resize, Round on integer-valued floats).
#include "native/common.hpp"
#include "native/native_ops.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <type_traits>

namespace tern::cpu {
namespace {

enum class Transform { HalfPixel, Asymmetric, AlignCorners, PytorchHalfPixel, TfHalfPixelForNn };
enum class Nearest { RoundPreferFloor, RoundPreferCeil, Floor, Ceil };

constexpr std::size_t scales_input = 2;
constexpr std::size_t sizes_input = 3;
constexpr std::size_t max_rank = 8; // the corner loop of n-linear runs over 2^rank neighbours

template <class Enum> Enum parse(const Node& node, const std::string& key, const std::vector<std::string>& names) {
  const auto value = node.attr<std::string>(key);
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == value) return static_cast<Enum>(i);
  native::fail(node, "attribute '" + key + "' is '" + value + "', which the cpu Resize does not support");
}

/// Where one output coordinate reads along one axis: input offsets (already times the
/// input stride) of the two neighbours, and the weight of the second (0 for nearest).
struct Tap {
  std::int64_t low = 0;
  std::int64_t high = 0;
  double weight = 0.0;
};

class ResizeKernel final : public Kernel {
public:
  explicit ResizeKernel(const Node& node)
      : node_(node), linear_(node.attr<std::string>("mode") == "linear"),
        transform_(parse<Transform>(
            node, "coordinate_transformation_mode",
            {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "tf_half_pixel_for_nn"})),
        nearest_(parse<Nearest>(node, "nearest_mode", {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})) {
    const auto mode = node.attr<std::string>("mode");
    native::require(node, mode == "nearest" || mode == "linear",
                    "attribute 'mode' is '" + mode + "'; the cpu Resize supports nearest and linear");
    // exclude_outside only reweights neighbours outside the input, which for nearest and
    // linear (with edge padding) does not change the result; roi only serves
    // tf_crop_and_resize, which the schema rejects.
  }

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 4, 1, 1);
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    native::require(node_, x.dtype() == y.dtype(), "the output's dtype differs from the input's");
    const Shape& in = x.shape();
    const std::size_t rank = in.rank();
    native::require(node_, y.shape().rank() == rank, "output rank differs from the input's");
    native::require(node_, rank <= max_rank, "rank " + std::to_string(rank) + " is above " + std::to_string(max_rank));
    const std::vector<double> scales = scales_of(inputs, in, y.shape());

    const std::vector<std::int64_t> strides = native::strides_of(in);
    std::vector<std::vector<Tap>> taps(rank);
    for (std::size_t d = 0; d < rank; ++d) {
      native::require(node_, in[d] > 0 || y.shape()[d] == 0, "cannot resize the empty axis " + std::to_string(d));
      for (std::int64_t o = 0; o < y.shape()[d]; ++o) taps[d].push_back(tap(o, scales[d], in[d], strides[d]));
    }
    if (y.numel() == 0) return;
    switch (x.dtype()) {
    case DataType::Float32: resample<float>(x, y, taps); break;
    case DataType::Int8: resample<std::int8_t>(x, y, taps); break;
    case DataType::UInt8: resample<std::uint8_t>(x, y, taps); break;
    default: native::fail(node_, "input X is " + std::string(name(x.dtype())) + ", not float32, int8 or uint8");
    }
  }

private:
  template <class T> static T stored(double value) {
    const auto single = static_cast<float>(value);
    if constexpr (std::is_same_v<T, float>) {
      return single;
    } else {
      constexpr auto lo = static_cast<float>(std::numeric_limits<T>::min());
      constexpr auto hi = static_cast<float>(std::numeric_limits<T>::max());
      return static_cast<T>(std::clamp(std::nearbyint(single), lo, hi));
    }
  }

  template <class T> void resample(const Tensor& x, Tensor& y, const std::vector<std::vector<Tap>>& taps) const {
    const std::size_t rank = x.shape().rank();
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    const std::int64_t row = rank == 0 ? 1 : y.shape()[rank - 1];
    const std::int64_t rows = y.numel() / row;
    const std::size_t outer = rank == 0 ? 0 : rank - 1;
#pragma omp parallel for if (y.numel() > (1 << 14))
    for (std::int64_t r = 0; r < rows; ++r) {
      // Taps of this row's outer coordinates; n-linear sums 2^k corners over the k axes
      // that interpolate (weight in (0, 1)); the other axes contribute one offset.
      std::array<const Tap*, max_rank> row_taps{};
      std::int64_t rest = r;
      for (std::size_t d = outer; d-- > 0;) {
        row_taps[d] = &taps[d][static_cast<std::size_t>(rest % y.shape()[d])];
        rest /= y.shape()[d];
      }
      for (std::int64_t i = 0; i < row; ++i) {
        if (rank > 0) row_taps[rank - 1] = &taps[rank - 1][static_cast<std::size_t>(i)];
        std::int64_t base = 0;
        std::array<const Tap*, max_rank> blended{};
        std::size_t k = 0;
        for (std::size_t d = 0; d < rank; ++d) {
          base += row_taps[d]->low;
          if (row_taps[d]->weight != 0.0) blended[k++] = row_taps[d];
        }
        double value = 0.0;
        for (std::size_t corner = 0; corner < (std::size_t{1} << k); ++corner) {
          double weight = 1.0;
          std::int64_t offset = base;
          for (std::size_t j = 0; j < k; ++j) {
            const bool high = (corner >> j) & 1U;
            weight *= high ? blended[j]->weight : 1.0 - blended[j]->weight;
            if (high) offset += blended[j]->high - blended[j]->low;
          }
          value += weight * static_cast<double>(src[offset]);
        }
        dst[r * row + i] = stored<T>(value);
      }
    }
  }

  /// One scale per axis: the scales input, or output size / input size when sizes is given
  /// (as the reference computes it, so align_corners sees the same output width).
  std::vector<double> scales_of(std::span<const Tensor> inputs, const Shape& in, const Shape& out) const {
    const auto given = [&](std::size_t i) { return inputs.size() > i && inputs[i].defined() && inputs[i].numel() > 0; };
    std::vector<double> scales;
    if (given(scales_input)) {
      native::require_dtype(node_, inputs[scales_input], DataType::Float32, "scales");
      scales = inputs[scales_input].to_doubles();
      native::require(node_, scales.size() == in.rank(), "scales must hold one value per input axis");
      for (std::size_t d = 0; d < in.rank(); ++d) {
        native::require(node_, scales[d] > 0, "scale " + std::to_string(scales[d]) + " must be > 0");
        native::require(node_, out[d] == static_cast<std::int64_t>(std::floor(static_cast<double>(in[d]) * scales[d])),
                        "output " + out.to_string() + " is not floor(input " + in.to_string() + " * scales)");
      }
      return scales;
    }
    native::require(node_, given(sizes_input), "neither scales nor sizes is given");
    const std::vector<std::int64_t> sizes = native::index_values(node_, inputs[sizes_input], "sizes");
    native::require_shape(node_, out, Shape(sizes), "output");
    for (std::size_t d = 0; d < in.rank(); ++d)
      scales.push_back(in[d] == 0 ? 1.0 : static_cast<double>(out[d]) / static_cast<double>(in[d]));
    return scales;
  }

  /// The input coordinate output coordinate `o` maps to (the reference's x_original).
  double original(std::int64_t o, double scale, std::int64_t size) const {
    const auto x = static_cast<double>(o);
    const double width = scale * static_cast<double>(size); // the reference's (float) output width
    switch (transform_) {
    case Transform::HalfPixel: return (x + 0.5) / scale - 0.5;
    case Transform::Asymmetric: return x / scale;
    case Transform::AlignCorners: return width == 1.0 ? 0.0 : x * static_cast<double>(size - 1) / (width - 1.0);
    case Transform::PytorchHalfPixel: return width == 1.0 ? -0.5 : (x + 0.5) / scale - 0.5;
    case Transform::TfHalfPixelForNn: return (x + 0.5) / scale;
    }
    return x;
  }

  Tap tap(std::int64_t o, double scale, std::int64_t size, std::int64_t stride) const {
    const double coordinate = original(o, scale, size);
    const double floor = std::floor(coordinate);
    const double ratio = coordinate - floor;
    const auto clamp = [size, stride](double index) {
      return std::clamp(static_cast<std::int64_t>(index), std::int64_t{0}, size - 1) * stride;
    };
    if (linear_) {
      const Tap blend{clamp(floor), clamp(floor + 1.0), ratio};
      return blend.low == blend.high ? Tap{blend.low, blend.low, 0.0} : blend; // past an edge: one neighbour
    }
    bool up = false; // a whole coordinate is its own nearest neighbour
    if (ratio != 0.0) {
      switch (nearest_) {
      case Nearest::RoundPreferFloor: up = ratio > 0.5; break;
      case Nearest::RoundPreferCeil: up = ratio >= 0.5; break;
      case Nearest::Floor: up = false; break;
      case Nearest::Ceil: up = true; break;
      }
    }
    const std::int64_t index = clamp(up ? floor + 1.0 : floor);
    return {index, index, 0.0};
  }

  const Node& node_;
  bool linear_;
  Transform transform_;
  Nearest nearest_;
};

} // namespace

std::unique_ptr<Kernel> make_resize(const Node& node) { return std::make_unique<ResizeKernel>(node); }

} // namespace tern::cpu
