#include "pipeline.hpp"

#include "bias_correction.hpp"
#include "calibration.hpp"
#include "cast_to_integer.hpp"
#include "clipping/clipping.hpp"
#include "equalization.hpp"
#include "op_roles.hpp"
#include "quantize_graph.hpp"

#include <tern/error.hpp>
#include <tern/recipes.hpp>

#include <chrono>

namespace tern::ptq {

void prepare_network(Graph& graph, PassContext& context, const Options& options) {
  require_unprepared(graph, "quantize_network");
  fold_batchnorm(graph);
  // The forms the PTQ quantizes: a BN left alone is a depthwise Conv, a spatial mean a pool,
  // a layer normalisation written op by op one node (kept in float), a linear layer written
  // as MatMul + Add the Gemm other exporters write.
  batchnorm_as_conv(graph);
  matmul_as_gemm(graph);
  mean_as_global_pool(graph);
  fuse_layer_norm(graph);
  remove_flatten(graph);
  // Shape arithmetic on static dimensions (all of it once the input's shape is fixed)
  // becomes constants, so Reshapes get constant shapes and the graph is static.
  fold_shapes(graph, options.backends);
  graph.infer_shapes();
  if (options.equalize) {
    const std::size_t pairs = equalize_cross_layer(graph);
    if (context.log) context.log("  cross-layer equalisation: " + std::to_string(pairs) + " pair(s) of affine nodes");
  }
  const std::string kept = check_float_nodes(graph, options.keep_float);
  if (!kept.empty() && context.log) context.log("  kept in float: " + kept);
  const std::string islands = nodes_of_role(graph, Role::FloatIsland);
  if (!islands.empty() && context.log) context.log("  computed in float between quantized neighbours: " + islands);
}

void fold_quantizers(Graph& graph, PassContext&, const Options& options) { fold_constants(graph, options.backends); }

void quantize_network(Graph& graph, PassContext& context, const Options& options) {
  const auto step = [&](const std::string& name, auto&& run) {
    if (context.log) context.log(name + ":");
    const auto start = std::chrono::steady_clock::now();
    run(graph, context, options);
    context.seconds.emplace_back(name, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  step("prepare", prepare_network);
  step("compute_ranges", compute_ranges);
  if (find_clipping(options.clipping_mode)->needs_histogram) step("adjust_ranges", adjust_ranges);
  step("quantize", quantize_normalized_network);
  if (options.bias_correction && !options.no_quant) step("correct_biases", correct_biases);
  if (options.fold_graph) step("fold", fold_quantizers);
  // no_quant leaves real numbers in the graph: there is nothing to cast.
  if (!options.fake_quantize && !options.no_quant) step("cast_to_integer", cast_to_integer);
}

} // namespace tern::ptq
