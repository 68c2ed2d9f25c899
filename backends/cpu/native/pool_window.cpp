#include "native/pool_window.hpp"

#include <tern/error.hpp>

namespace tern::cpu::native {

std::vector<std::int64_t> window_offsets(const PoolGeometry& g, const Dims3& strides) {
  const std::int64_t taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
  std::vector<std::int64_t> offsets, window;
  offsets.reserve(static_cast<std::size_t>(g.out[0] * g.out[1] * g.out[2] * taps));
  for (std::int64_t od = 0; od < g.out[0]; ++od)
    for (std::int64_t oh = 0; oh < g.out[1]; ++oh)
      for (std::int64_t ow = 0; ow < g.out[2]; ++ow) {
        window.clear();
        for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd)
          for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh)
            for (std::int64_t kw = 0; kw < g.kernel[2]; ++kw) {
              const std::int64_t id = od * g.stride[0] + kd * g.dilation[0] - g.pad[0];
              const std::int64_t ih = oh * g.stride[1] + kh * g.dilation[1] - g.pad[1];
              const std::int64_t iw = ow * g.stride[2] + kw * g.dilation[2] - g.pad[2];
              if (id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1] && iw >= 0 && iw < g.in[2])
                window.push_back(id * strides[0] + ih * strides[1] + iw * strides[2]);
            }
        check(!window.empty(), "a MaxPool window lies entirely in the padding");
        for (std::int64_t t = 0; t < taps; ++t) offsets.push_back(window[static_cast<std::size_t>(t) % window.size()]);
      }
  return offsets;
}

} // namespace tern::cpu::native
