// libtern-ptq.so: the post-training quantization passes, registered by name ("ptq.<step>").
#include "bias_correction.hpp"
#include "calibration.hpp"
#include "cast_to_integer.hpp"
#include "qdq_to_integer.hpp"
#include "to_qdq.hpp"
#include "operators.hpp"
#include "pipeline.hpp"
#include "precision.hpp"
#include "quantize_graph.hpp"

#include <tern/plugin_export.hpp>

namespace {

using StepFn = void (*)(tern::Graph&, tern::PassContext&, const tern::ptq::Options&);

/// A pass reading the common PTQ options.
tern::PassFn step(StepFn run) {
  return [run](tern::Graph& graph, tern::PassContext& context) {
    const tern::ptq::Options options = tern::ptq::read_options(context.options);
    run(graph, context, options);
  };
}

tern::DataType precision_option(const tern::Attributes& options, const std::string& key) {
  const auto type = tern::parse_data_type(options.get<std::string>(key));
  tern::check(type.has_value(),
              [&] { return "auto_assign_node_precision: '" + options.get<std::string>(key) + "' is not a data type"; });
  return *type;
}

/// Options "weights", "activations", "accumulation": data type names.
void auto_assign(tern::Graph& graph, tern::PassContext& context) {
  for (const auto& [key, unused] : context.options.all())
    tern::check(key == "weights" || key == "activations" || key == "accumulation", [&] {
      return "auto_assign_node_precision: unknown option '" + key + "' (known: weights, activations, accumulation)";
    });
  tern::ptq::auto_assign_node_precision(graph, precision_option(context.options, "weights"),
                                        precision_option(context.options, "activations"),
                                        precision_option(context.options, "accumulation"));
}

void register_ptq(tern::PluginContext& context) {
  for (tern::OpSchema& schema : tern::ptq::operator_schemas()) context.add_schema(std::move(schema));
  context.add_pass("ptq.auto_assign_node_precision", auto_assign);
  context.add_pass("ptq.prepare", step(tern::ptq::prepare_network));
  context.add_pass("ptq.compute_ranges", step(tern::ptq::compute_ranges));
  context.add_pass("ptq.adjust_ranges", step(tern::ptq::adjust_ranges));
  context.add_pass("ptq.quantize", step(tern::ptq::quantize_normalized_network));
  context.add_pass("ptq.correct_biases", step(tern::ptq::correct_biases));
  context.add_pass("ptq.fold", step(tern::ptq::fold_quantizers));
  context.add_pass("ptq.cast_to_integer", step(tern::ptq::cast_to_integer));
  context.add_pass("ptq.to_qdq", step(tern::ptq::to_qdq));
  context.add_pass("ptq.qdq_to_integer", step(tern::ptq::qdq_to_integer));
  context.add_pass("ptq.quantize_network", step(tern::ptq::quantize_network));
}

} // namespace

TERN_PLUGIN("ptq", TERN_VERSION_STRING, "post-training quantization passes (the seed's quantize_network)",
            tern::PluginKind::Pass, nullptr, register_ptq)
