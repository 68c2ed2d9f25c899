#pragma once
// The plugin's own operators (domain "tern.ptq"): PtqRange, PtqHistogram, PtqFakeQuantize,
// PtqClipSearch. Backends offer kernels for them; the plugin registers their schemas.

#include <tern/operator.hpp>

#include <vector>

namespace tern::ptq {

/// The schemas of the PTQ's operators.
std::vector<OpSchema> operator_schemas();

} // namespace tern::ptq
