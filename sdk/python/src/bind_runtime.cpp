// Backends, tern.SequentialScheduler, datasets and NPY/IDX files.
#include "bindings.hpp"
#include "numpy_tensor.hpp"

#include <tern/dataset.hpp>
#include <tern/idx.hpp>
#include <tern/npy.hpp>
#include <tern/runtime.hpp>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

namespace tern::python {
namespace {

/// forward()'s inputs: one array-like or tensor, or a sequence of them (one per graph input).
std::vector<Tensor> input_tensors(const py::handle& inputs) {
  std::vector<Tensor> tensors;
  const bool one = py::isinstance<Tensor>(inputs) || py::isinstance<py::array>(inputs) ||
                   !py::isinstance<py::sequence>(inputs) ||
                   (py::len(inputs) > 0 && !py::isinstance<Tensor>(inputs[py::int_(0)]) &&
                    !py::isinstance<py::array>(inputs[py::int_(0)]));
  if (one)
    tensors.push_back(to_tensor(inputs));
  else
    for (const py::handle item : inputs) tensors.push_back(to_tensor(item));
  return tensors;
}

/// A scheduler over its own copy of the graph: compiled for the graph as it was, it stays
/// valid when the caller's graph is rewritten (e.g. quantized) afterwards.
class PyScheduler {
public:
  PyScheduler(const Graph& graph, std::vector<std::string> backends) : runtime_(graph.clone(), std::move(backends)) {}

  py::list forward(const py::handle& inputs) {
    std::vector<Tensor> tensors = input_tensors(inputs);
    std::vector<Tensor> outputs;
    {
      py::gil_scoped_release unlocked;
      outputs = runtime_.run(tensors);
      tensors.clear(); // arrays shared with NumPy are released under the GIL by their owners
    }
    py::list result;
    for (const Tensor& output : outputs) result.append(to_numpy(output));
    return result;
  }

  py::list plan() const {
    py::list steps;
    for (const Placement& placement : runtime_.placements())
      steps.append(py::dict(py::arg("node") = placement.node, py::arg("op_type") = placement.op_type,
                            py::arg("backend") = placement.backend,
                            py::arg("implementation") = placement.implementation,
                            py::arg("skipped") = placement.skipped));
    return steps;
  }

  std::size_t buffer_bytes() { return runtime_.scheduler().buffer_bytes(); }

private:
  Runtime runtime_;
};

std::vector<std::string> backend_list(const py::object& backends) {
  if (py::isinstance<py::str>(backends)) return {backends.cast<std::string>()};
  return backends.cast<std::vector<std::string>>();
}

void bind_backends(py::module_& module) {
  py::class_<BackendInfo>(module, "BackendInfo", "A backend this process can choose by name.")
      .def_readonly("name", &BackendInfo::name)
      .def_readonly("source", &BackendInfo::source)
      .def_readonly("usable", &BackendInfo::usable)
      .def_readonly("reason", &BackendInfo::reason)
      .def_readonly("loaded", &BackendInfo::loaded)
      .def("__repr__", [](const BackendInfo& b) {
        return "tern.BackendInfo('" + b.name + "', " + (b.usable ? "usable" : "unusable: " + b.reason) + ")";
      });
  py::class_<Backend, std::unique_ptr<Backend, py::nodelete>>(module, "Backend", "A loaded backend.")
      .def_property_readonly("name", &Backend::name)
      .def("set_num_threads", &Backend::set_num_threads, py::arg("threads"),
           "Threads its kernels may use (0: the default) from the next forward.")
      .def("__repr__", [](const Backend& b) { return "tern.Backend('" + b.name() + "')"; });
  module.def("available_backends", &Runtime::available_backends,
             "Every backend this process can use, usable or not (with the reason).");
  module.def(
      "load_backend", [](const std::string& name) { return &Runtime::load_backend(name); }, py::arg("name"),
      py::return_value_policy::reference, "The backend `name`, loading its plugin when needed.");
}

void bind_scheduler(py::module_& module) {
  py::class_<PyScheduler>(module, "SequentialScheduler", R"(Compiles a graph once for a backend preference list
(each node runs on the first backend that has a kernel for it) and runs it. It compiles a copy of
the graph as it is now: rewrite the graph afterwards (e.g. quantize it) and make a new scheduler.)")
      .def(py::init([](const GraphPtr& graph, const py::object& backends) {
             return std::make_unique<PyScheduler>(*graph, backend_list(backends));
           }),
           py::arg("graph"), py::arg("backends") = std::vector<std::string>{"cpu"})
      .def("forward", &PyScheduler::forward, py::arg("inputs"),
           "Runs the graph on one array (or Tensor) per graph input, any batch size; returns the outputs as "
           "NumPy arrays. Releases the GIL while it runs.")
      .def("plan", &PyScheduler::plan, "One dict per step: node, op_type, backend, implementation, skipped.")
      .def_property_readonly("buffer_bytes", &PyScheduler::buffer_bytes, "bytes held by the reused activation buffers");
}

void bind_datasets(py::module_& module) {
  py::class_<Dataset>(module, "Dataset", "Labelled images, float32 N×C×H×W, held in host memory.")
      .def(py::init([](const py::object& samples, const std::optional<py::object>& labels, const std::string& text) {
             Tensor data = to_tensor(samples, std::nullopt, true);
             std::vector<std::int64_t> classes;
             if (labels) classes = to_tensor(*labels, std::nullopt, true).to_int64s();
             return Dataset(text, std::move(data), std::move(classes));
           }),
           py::arg("samples"), py::arg("labels") = py::none(), py::arg("description") = "arrays")
      .def_property_readonly("description", &Dataset::description)
      .def_property_readonly("sample_shape",
                             [](const Dataset& d) { return py::tuple(py::cast(d.sample_shape().dims())); })
      .def_property_readonly("labels",
                             [](const Dataset& d) {
                               const auto& labels = d.labels();
                               py::array_t<std::int64_t> result(static_cast<py::ssize_t>(labels.size()));
                               std::copy(labels.begin(), labels.end(), result.mutable_data());
                               return result;
                             })
      .def_property_readonly("has_labels", &Dataset::has_labels)
      .def(
          "batch",
          [](const Dataset& d, std::size_t begin, std::size_t count) { return to_numpy(d.batch(begin, count)); },
          py::arg("begin"), py::arg("count"), "Samples [begin, begin + count) as one float32 array (a copy).")
      .def("first", &Dataset::first, py::arg("count"), "The first `count` samples.")
      .def("__len__", &Dataset::size)
      .def("__repr__", [](const Dataset& d) {
        return "tern.Dataset(" + d.description() + ", " + std::to_string(d.size()) + " samples)";
      });
  module.def(
      "load_fashion_mnist",
      [](const std::optional<std::filesystem::path>& dir, const std::string& split) {
        return load_fashion_mnist(dir.value_or(default_fashion_mnist_dir()), split);
      },
      py::arg("directory") = py::none(), py::arg("split") = "test",
      "Fashion-MNIST from IDX(.gz) files (Debian's dataset-fashion-mnist by default), pixels / 255.");
  module.def(
      "load_npy_dataset",
      [](const std::filesystem::path& samples, const std::optional<std::filesystem::path>& labels) {
        return load_npy_dataset(samples, labels);
      },
      py::arg("samples"), py::arg("labels") = py::none(),
      "Samples and labels from .npy(.gz) files, as the seed stores them.");
  module.def(
      "open_dataset",
      [](const std::string& spec, const std::string& split, const std::optional<std::filesystem::path>& labels) {
        return open_dataset(spec, split, labels);
      },
      py::arg("spec"), py::arg("split") = "test", py::arg("labels") = py::none(),
      "The CLI's dataset argument: \"fashion-mnist[:DIR]\" or a .npy(.gz) path.");
  module.def(
      "read_npy", [](const std::filesystem::path& path) { return to_numpy(read_npy(path)); }, py::arg("path"));
  module.def(
      "write_npy",
      [](const py::object& array, const std::filesystem::path& path) { write_npy(to_tensor(array), path); },
      py::arg("array"), py::arg("path"));
  module.def(
      "read_idx", [](const std::filesystem::path& path) { return to_numpy(read_idx(path)); }, py::arg("path"));
}

} // namespace

void bind_runtime(py::module_& module) {
  bind_backends(module);
  bind_scheduler(module);
  bind_datasets(module);
}

} // namespace tern::python
