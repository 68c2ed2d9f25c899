#pragma once
// The attributes of a Requantize node (y = clamp(round(x * scale), lo, hi) as `to`), which
// both ways into the integer graph write: cast_to_integer from Tern's quantizers,
// qdq_to_integer from a QDQ file's QuantizeLinear nodes.

#include <tern/attributes.hpp>
#include <tern/dtype.hpp>

#include <cstdint>
#include <vector>

namespace tern::ptq {

/// `scale` per tensor (one value) or per slice along `axis`.
Attributes requantize_attributes(std::vector<double> scale, std::int64_t axis, std::int64_t lo, std::int64_t hi,
                                 DataType to);

} // namespace tern::ptq
