#pragma once
// The steps of quantize_network that are not calibration or the graph rewrite, and the
// whole pipeline in the seed's order.

#include "options.hpp"

#include <tern/pass.hpp>

namespace tern::ptq {

/// Removes Flatten nodes, folds BatchNormalization, and refuses (before any calibration)
/// a graph with nodes the PTQ cannot quantize unless keep_float is set.
void prepare_network(Graph& graph, PassContext& context, const Options& options);
/// Folds the weight quantizers (Mul → Round → Clip over constants) into integer constants.
void fold_quantizers(Graph& graph, PassContext& context, const Options& options);
/// Every step in order, timing each into context.seconds.
void quantize_network(Graph& graph, PassContext& context, const Options& options);

} // namespace tern::ptq
