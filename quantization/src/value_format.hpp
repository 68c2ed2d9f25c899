#pragma once
// The integer format a quantized value takes: its bits (from the precision tags), its
// signedness (unsigned when optimize_signs and the value never goes below zero) and range.

#include "options.hpp"
#include "precision.hpp"

#include <tern/graph.hpp>

namespace tern::ptq {

struct ValueFormat {
  unsigned bits = 8;
  bool is_unsigned = false;
  IntRange range;
};

/// The format of `value`, a calibration point: its producer's activation tag (an activation
/// tail defers to the node it follows); graph inputs take the widest tag among their readers
/// and stay signed, as the seed's input scaling 2^(n-1)-1 assumes.
ValueFormat value_format(const Graph& graph, const Value& value, const Options& options);

} // namespace tern::ptq
