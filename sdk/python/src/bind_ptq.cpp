// tern._tern.ptq: <tern/ptq.hpp>. tern/ptq.py wraps it with keyword options and progress bars.
#include "bindings.hpp"
#include "numpy_tensor.hpp"

#include <tern/export.hpp>
#include <tern/ptq.hpp>

#include <pybind11/functional.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <array>

namespace tern::python {
namespace {

using ptq::QuantizeOptions;

void bind_options(py::module_& module) {
  py::enum_<ptq::Clipping>(module, "Clipping", "How activation ranges are clipped before quantization.")
      .value("MAX", ptq::Clipping::Max)
      .value("MSE", ptq::Clipping::MSE)
      .value("AA", ptq::Clipping::AA)
      .value("KL", ptq::Clipping::KL)
      .value("PERCENTILE", ptq::Clipping::Percentile);

  // Callbacks run on the calling thread while the GIL is released: pybind11's function
  // wrapper takes the GIL for each call.
  py::class_<QuantizeOptions>(module, "QuantizeOptions", "tern::ptq::QuantizeOptions, field for field.")
      .def(py::init<>())
      .def_readwrite("clipping_mode", &QuantizeOptions::clipping_mode)
      .def_readwrite("no_quant", &QuantizeOptions::no_quant)
      .def_readwrite("optimize_signs", &QuantizeOptions::optimize_signs)
      .def_readwrite("single_shift", &QuantizeOptions::single_shift)
      .def_readwrite("use_cuda", &QuantizeOptions::use_cuda)
      .def_readwrite("fold_graph", &QuantizeOptions::fold_graph)
      .def_readwrite("fake_quantize", &QuantizeOptions::fake_quantize)
      .def_readwrite("verbose", &QuantizeOptions::verbose)
      .def_readwrite("per_channel", &QuantizeOptions::per_channel)
      .def_readwrite("percentile", &QuantizeOptions::percentile)
      .def_readwrite("keep_float", &QuantizeOptions::keep_float)
      .def_readwrite("equalize", &QuantizeOptions::equalize)
      .def_readwrite("bias_correction", &QuantizeOptions::bias_correction)
      .def_readwrite("reduce_range", &QuantizeOptions::reduce_range)
      .def_readwrite("backends", &QuantizeOptions::backends)
      .def_readwrite("batch_size", &QuantizeOptions::batch_size)
      .def_readwrite("log", &QuantizeOptions::log)
      .def_readwrite("progress", &QuantizeOptions::progress);
}

std::vector<Tensor> batch_tensors(const std::vector<py::object>& batches) {
  std::vector<Tensor> tensors;
  for (const py::object& batch : batches) tensors.push_back(to_tensor(batch));
  return tensors;
}

/// Runs `step` on the graph without the GIL.
template <class Step> auto unlocked(Step&& step) {
  py::gil_scoped_release released;
  return step();
}

void bind_steps(py::module_& module) {
  module.def(
      "auto_assign_node_precision",
      [](const GraphPtr& graph, DataType weights, DataType activations, DataType accumulation) {
        ptq::auto_assign_node_precision(*graph, weights, activations, accumulation);
      },
      py::arg("graph"), py::arg("weight_precision"), py::arg("activation_precision"),
      py::arg("bias_and_accumulation_precision"));
  module.def(
      "quantize_network",
      [](const GraphPtr& graph, const std::vector<py::object>& batches, const QuantizeOptions& options) {
        const std::vector<Tensor> tensors = batch_tensors(batches);
        return unlocked([&] { return ptq::quantize_network(*graph, tensors, options).seconds; });
      },
      py::arg("graph"), py::arg("calibration_set"), py::arg("options"));
  module.def(
      "quantize_network",
      [](const GraphPtr& graph, const Dataset& dataset, const QuantizeOptions& options) {
        return unlocked([&] { return ptq::quantize_network(*graph, dataset, options).seconds; });
      },
      py::arg("graph"), py::arg("calibration_set"), py::arg("options"));
  using CalibratedStep = void (*)(Graph&, const std::vector<Tensor>&, const QuantizeOptions&);
  const std::pair<const char*, CalibratedStep> calibrated_steps[] = {{"compute_ranges", &ptq::compute_ranges},
                                                                     {"correct_biases", &ptq::correct_biases}};
  for (const auto& [step_name, step] : calibrated_steps)
    module.def(
        step_name,
        [step](const GraphPtr& graph, const std::vector<py::object>& batches, const QuantizeOptions& options) {
          const std::vector<Tensor> tensors = batch_tensors(batches);
          unlocked([&] { step(*graph, tensors, options); });
        },
        py::arg("graph"), py::arg("calibration_set"), py::arg("options"));
  using Step = void (*)(Graph&, const QuantizeOptions&);
  const std::pair<const char*, Step> steps[] = {{"prepare_network", &ptq::prepare_network},
                                                {"adjust_ranges", &ptq::adjust_ranges},
                                                {"quantize_normalized_network", &ptq::quantize_normalized_network},
                                                {"fold_quantizers", &ptq::fold_quantizers},
                                                {"cast_to_integer", &ptq::cast_to_integer},
                                                {"to_qdq", &ptq::to_qdq}};
  for (const auto& [step_name, step] : steps)
    module.def(
        step_name,
        [step](const GraphPtr& graph, const QuantizeOptions& options) { unlocked([&] { step(*graph, options); }); },
        py::arg("graph"), py::arg("options"));
  module.def(
      "is_quantized", [](const GraphPtr& graph) { return ptq::is_quantized(*graph); }, py::arg("graph"));
  module.def(
      "is_qdq", [](const GraphPtr& graph) { return ptq::is_qdq(*graph); }, py::arg("graph"));
  module.def(
      "qdq_to_integer", [](const GraphPtr& graph) { unlocked([&] { ptq::qdq_to_integer(*graph); }); },
      py::arg("graph"));
  module.def(
      "measure_quality",
      [](const GraphPtr& float_model, const GraphPtr& quantized, const Dataset& calibration,
         const QuantizeOptions& options) {
        const std::vector<ptq::NodeQuality> nodes =
            unlocked([&] { return ptq::measure_quality(*float_model, *quantized, calibration, options); });
        py::list result;
        for (const ptq::NodeQuality& n : nodes)
          result.append(
              py::dict(py::arg("node") = n.node, py::arg("op") = n.op, py::arg("precision") = n.precision,
                       py::arg("sqnr_alone_db") = n.sqnr_alone_db, py::arg("sqnr_network_db") = n.sqnr_network_db,
                       py::arg("range") = py::make_tuple(n.range_min, n.range_max), py::arg("clip") = n.clip,
                       py::arg("scale") = n.scale, py::arg("macs") = n.macs, py::arg("parameters") = n.parameters));
        return result;
      },
      py::arg("float_model"), py::arg("quantized"), py::arg("calibration"), py::arg("options"));
  module.def(
      "quantize_mixed_precision",
      [](const GraphPtr& graph, const Dataset& calibration, std::array<DataType, 3> low, std::array<DataType, 3> high,
         double budget, const QuantizeOptions& options) {
        const ptq::MixedPrecision mixed = unlocked([&] {
          return ptq::quantize_mixed_precision(*graph, calibration, {low[0], low[1], low[2]},
                                               {high[0], high[1], high[2]}, budget, options);
        });
        return py::dict(py::arg("promoted") = mixed.promoted, py::arg("mac_fraction") = mixed.mac_fraction,
                        py::arg("sqnr_low_db") = mixed.sqnr_low_db, py::arg("sqnr_db") = mixed.sqnr_db);
      },
      py::arg("graph"), py::arg("calibration"), py::arg("low"), py::arg("high"), py::arg("budget"), py::arg("options"));
  module.def(
      "scale_input",
      [](const GraphPtr& graph, const py::object& input) {
        return to_numpy(ptq::scale_input(*graph, to_tensor(input)));
      },
      py::arg("graph"), py::arg("input"));
}

} // namespace

void bind_ptq(py::module_& module) {
  py::module_ ptq_module = module.def_submodule("ptq", "<tern/ptq.hpp>: use tern.ptq, which adds keyword options.");
  bind_options(ptq_module);
  bind_steps(ptq_module);
  // Deployment of what the PTQ made: C for microcontrollers (<tern/export.hpp>).
  module.def(
      "export_c",
      [](const GraphPtr& graph, const std::filesystem::path& dir, const std::string& name) {
        ExportCOptions options;
        options.name = name;
        const ExportCSummary summary = unlocked([&] { return export_c(*graph, dir, options); });
        return py::dict(py::arg("header") = summary.header.string(), py::arg("source") = summary.source.string(),
                        py::arg("weights") = summary.weights.string(), py::arg("input_size") = summary.input_size,
                        py::arg("output_size") = summary.output_size, py::arg("arena_bytes") = summary.arena_bytes,
                        py::arg("weight_bytes") = summary.weight_bytes);
      },
      py::arg("graph"), py::arg("dir"), py::arg("name") = "model",
      "Writes a quantized graph as C99 for a microcontroller (NAME.h, NAME.c, NAME_weights.c); see docs/MCU.md.");
}

} // namespace tern::python
