// The per-layer quality report (tern quantize --report, docs/REPORT.md): for each quantized
// node, the SQNR of its output against float with only that node quantized and in the whole
// quantized network, beside the facts the PTQ recorded on it.
#include "ptq_graph_facts.hpp"

#include <tern/error.hpp>
#include <tern/model_stats.hpp>
#include <tern/ptq.hpp>
#include <tern/scheduler.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>

namespace tern::ptq {
namespace {

using detail::meta_number;
using detail::Quantizer;
using detail::quantizer_after;
using detail::scale_key;
using detail::sole_reader;
using detail::step_of;

constexpr const char* calibration_prefix = "quantization.ptq.calibration.";

constexpr std::size_t batch_size = 50;

/// The float value a quantized node's output stands for: its output, or the Relu/Clip
/// activation after it that the PTQ folded into the quantizer's bounds.
const Value& activated_output(const Graph& prepared, const Node& node) {
  const Value* value = node.output();
  while (const Node* next = sole_reader(prepared, *value)) {
    if (next->op_type() != "Relu" && next->op_type() != "Clip") break;
    value = next->output();
  }
  return *value;
}

/// Signal and noise energies of one node's output, over the calibration set.
struct Energy {
  double signal = 0.0, noise = 0.0;
  void add(const Tensor& reference, const Tensor& measured, double to_real) {
    const std::vector<double> x = reference.to_doubles(), y = measured.to_doubles();
    check(x.size() == y.size(), "quality report: float and quantized outputs differ in size");
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double error = x[i] - y[i] * to_real;
      signal += x[i] * x[i];
      noise += error * error;
    }
  }
  /// In dB; an exact output reports 300 dB (JSON has no infinity).
  double sqnr_db() const {
    if (noise <= 0.0) return 300.0;
    return signal <= 0.0 ? -300.0 : 10.0 * std::log10(signal / noise);
  }
};

/// A value to compare: its name in the reference (float) graph, in the measured graph, and
/// the factor from the measured value to real units.
struct Probe {
  std::string reference, measured;
  double to_real = 1.0;
};

/// Runs `measured` beside `reference` over the calibration set (the measured graph's input
/// scaled as `quantized` wants it when `measured_wants_scaling`).
std::vector<Energy> compare(Graph reference, Graph measured, const std::vector<Probe>& probes, const Dataset& data,
                            const QuantizeOptions& options, bool measured_wants_scaling, const Graph& quantized) {
  const std::size_t reference_outputs = reference.outputs().size(), measured_outputs = measured.outputs().size();
  for (const Probe& probe : probes) {
    reference.add_output(probe.reference);
    measured.add_output(probe.measured);
  }
  SequentialScheduler reference_run(reference, options.backends), measured_run(measured, options.backends);
  std::vector<Energy> energy(probes.size());
  for (std::size_t begin = 0; begin < data.size(); begin += batch_size) {
    const Tensor batch = data.batch(begin, std::min(batch_size, data.size() - begin));
    const std::vector<Tensor> x = reference_run.forward({batch});
    const std::vector<Tensor> y =
        measured_run.forward({measured_wants_scaling ? scale_input(quantized, batch) : batch});
    for (std::size_t p = 0; p < probes.size(); ++p)
      energy[p].add(x[reference_outputs + p], y[measured_outputs + p], probes[p].to_real);
  }
  return energy;
}

/// `prepared` with only node `name` quantized as in `quantized`: its weights and bias the
/// real values of the quantized ones, its output rounded to its scale and clipped. Returns
/// the name of the quantized output.
std::string quantize_one(Graph& prepared, const Graph& quantized, const Node& q_node, const Quantizer& q,
                         double scale) {
  Node& node = *prepared.find_node(q_node.name());
  const std::string& op = node.op_type();
  const Value* q_weights = q_node.input(1);
  if ((op == "Conv" || op == "Gemm" || op == "MatMul") && q_weights != nullptr && q_weights->constant() != nullptr &&
      node.input(1) != nullptr && node.input(1)->constant() != nullptr) {
    // Quantized: y = (conv(x / s_in, W_q) + b_q) · rescale · s_out, so W = W_q · rescale · s_out / s_in
    // (an output left unrounded is in real units already: s_out = 1).
    const double s_in = step_of(quantized, q_node.input(0));
    const double s_out = q.rounds ? scale : 1.0;
    const Tensor& w = *q_weights->constant();
    const std::size_t channels = q.rescale.size();
    const bool rows = op == "Conv" || (op == "Gemm" && q_node.attr<std::int64_t>("transB") != 0);
    const auto per_row = static_cast<std::size_t>(w.numel()) / std::max<std::size_t>(channels, 1);
    std::vector<double> values = w.to_doubles();
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::size_t c = channels == 1 ? 0 : (rows ? i / per_row : i % channels);
      values[i] *= q.rescale[c] * s_out / s_in;
    }
    std::vector<float> real(values.begin(), values.end());
    prepared.set_constant(*node.input(1), Tensor::from_floats(w.shape(), real));
    if (q_node.input(2) != nullptr && q_node.input(2)->constant() != nullptr && node.input(2) != nullptr &&
        node.input(2)->constant() != nullptr) {
      std::vector<double> bias = q_node.input(2)->constant()->to_doubles();
      for (std::size_t i = 0; i < bias.size(); ++i) bias[i] *= q.rescale[channels == 1 ? 0 : i] * s_out;
      prepared.set_constant(*node.input(2),
                            Tensor::from_floats(q_node.input(2)->constant()->shape(), {bias.begin(), bias.end()}));
    }
  }
  if (!q.rounds) return activated_output(prepared, node).name();
  const auto scalar = [&](const std::string& base, double v) -> Value& {
    return prepared.add_constant(prepared.unique_name(base), Tensor::from_floats({}, {static_cast<float>(v)}));
  };
  Value* value = node.output();
  value = prepared.insert_after(*value, "Mul", {}, {&scalar(node.name() + "_to_steps", 1.0 / scale)}).output();
  value = prepared.insert_after(*value, "Round").output();
  value =
      prepared
          .insert_after(*value, "Clip", {}, {&scalar(node.name() + "_lo", q.lo), &scalar(node.name() + "_hi", q.hi)})
          .output();
  return prepared.insert_after(*value, "Mul", {}, {&scalar(node.name() + "_to_real", scale)}).output()->name();
}

} // namespace

std::vector<NodeQuality> measure_quality(const Graph& float_model, const Graph& quantized, const Dataset& calibration,
                                         const QuantizeOptions& options) {
  check(is_quantized(quantized), "measure_quality: the second graph is not quantized");
  check(calibration.size() > 0, "measure_quality: the calibration set is empty");
  // The float network the PTQ quantized: BatchNorm folded, equalised, as quantize_network saw it.
  Graph prepared = float_model.clone();
  prepare_network(prepared, options);
  prepared.infer_shapes();

  std::vector<NodeQuality> nodes;
  std::vector<Probe> network;
  std::vector<std::pair<const Node*, Quantizer>> quantizers;
  for (const Node* node : quantized.topological_order()) {
    if (!node->meta().has(scale_key) || prepared.find_node(node->name()) == nullptr) continue;
    const double scale = meta_number(*node, scale_key);
    const std::optional<Quantizer> q = quantizer_after(quantized, *node, scale);
    if (!q) continue;
    const Node& reference = *prepared.find_node(node->name());
    NodeQuality entry;
    entry.node = node->name();
    entry.op = node->op_type();
    entry.precision = node->meta().get_or<std::string>(detail::activation_precision_key, "");
    entry.scale = scale;
    entry.clip = meta_number(*node, "quantization.ptq.clip");
    const std::string range = node->meta().get_or<std::string>("quantization.ptq.range", "");
    if (std::sscanf(range.c_str(), "[%lf, %lf]", &entry.range_min, &entry.range_max) != 2)
      entry.range_min = entry.range_max = 0.0;
    entry.macs = node_macs(reference);
    for (const Value* input : reference.inputs())
      if (input != nullptr && input->constant() != nullptr) entry.parameters += input->constant()->numel();
    const std::string histogram_key = calibration_prefix + std::string("histogram:") + node->output()->name();
    if (quantized.meta().has(histogram_key)) {
      entry.histogram = quantized.meta().get<std::vector<double>>(histogram_key);
      entry.bin_width =
          quantized.meta().get<double>(calibration_prefix + std::string("bin_width:") + node->output()->name());
    }
    nodes.push_back(std::move(entry));
    network.push_back({activated_output(prepared, reference).name(), q->end->name(), q->to_real});
    quantizers.emplace_back(node, *q);
  }

  check(!nodes.empty(), "measure_quality: the quantized graph has no quantizer to measure: pass the fake-quantized "
                        "form (QuantizeOptions::fake_quantize, what tern quantize saves)");
  const std::vector<Energy> whole =
      compare(prepared.clone(), quantized.clone(), network, calibration, options, true, quantized);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].sqnr_network_db = whole[i].sqnr_db();
    Graph alone = prepared.clone();
    const std::string output =
        quantize_one(alone, quantized, *quantizers[i].first, quantizers[i].second, nodes[i].scale);
    nodes[i].sqnr_alone_db = compare(prepared.clone(), std::move(alone), {{network[i].reference, output, 1.0}},
                                     calibration, options, false, quantized)[0]
                                 .sqnr_db();
  }
  return nodes;
}

double output_sqnr_db(const Graph& float_model, const Graph& quantized, const Dataset& data,
                      const QuantizeOptions& options) {
  std::vector<Probe> outputs;
  for (std::size_t i = 0; i < float_model.outputs().size(); ++i)
    outputs.push_back({float_model.outputs()[i]->name(), quantized.outputs().at(i)->name(), 1.0});
  Energy total;
  for (const Energy& energy :
       compare(float_model.clone(), quantized.clone(), outputs, data, options, true, quantized)) {
    total.signal += energy.signal;
    total.noise += energy.noise;
  }
  return total.sqnr_db();
}

void write_quality_report(const std::vector<NodeQuality>& nodes, const std::string& model,
                          const std::filesystem::path& path) {
  nlohmann::json entries = nlohmann::json::array();
  for (const NodeQuality& n : nodes) {
    nlohmann::json entry{{"node", n.node},
                         {"op", n.op},
                         {"sqnr_db", {{"alone", n.sqnr_alone_db}, {"network", n.sqnr_network_db}}},
                         {"range", {n.range_min, n.range_max}},
                         {"clip", n.clip},
                         {"scale", n.scale},
                         {"macs", n.macs},
                         {"parameters", n.parameters}};
    if (!n.precision.empty()) entry["precision"] = n.precision;
    if (!n.histogram.empty() && n.bin_width > 0)
      entry["histogram"] = {{"bin_width", n.bin_width}, {"counts", n.histogram}};
    entries.push_back(std::move(entry));
  }
  const nlohmann::json report{{"format", "tern.quantize_report"}, {"version", 1}, {"model", model}, {"nodes", entries}};
  std::ofstream out(path);
  out << report.dump(2) << "\n";
  out.close();
  check(static_cast<bool>(out), [&] { return "--report " + path.string() + ": cannot write the file"; });
}

} // namespace tern::ptq
