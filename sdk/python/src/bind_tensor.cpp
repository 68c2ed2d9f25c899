// tern.DataType and tern.Tensor.
#include "bindings.hpp"
#include "numpy_tensor.hpp"

#include <tern/tensor.hpp>

#include <pybind11/stl.h>

namespace tern::python {

void bind_tensor(py::module_& module) {
  py::enum_<DataType> data_type(module, "DataType", "Element types. int4/uint4 are held one value per byte.");
  for (const DataType type : {DataType::Float32, DataType::Float64, DataType::Int4, DataType::UInt4, DataType::Int8,
                              DataType::UInt8, DataType::Int16, DataType::Int32, DataType::Int64, DataType::Bool})
    data_type.value(std::string(name(type)).c_str(), type);
  data_type
      .def_property_readonly(
          "bits", [](DataType type) { return info(type).bits; }, "bits of information per value")
      .def_property_readonly("numpy_dtype", &numpy_dtype, "the NumPy dtype that holds it");

  py::class_<Tensor>(module, "Tensor", py::buffer_protocol(), R"(A dense row-major tensor.

Tensor(array) shares the array's memory when it is C-contiguous, aligned, writable and of a
NumPy dtype Tern has (float32, float64, int8, uint8, int16, int32, int64, bool); otherwise,
or with copy=True, it copies. dtype=int4/uint4 takes an int8/uint8 array whose values fit
4 bits. A dtype other than the array's raises tern.Error: Tern never converts silently.)")
      .def(py::init([](const py::object& array, std::optional<DataType> dtype, bool copy) {
             return to_tensor(array, dtype, copy);
           }),
           py::arg("array"), py::arg("dtype") = py::none(), py::arg("copy") = false)
      .def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape().dims())); })
      .def_property_readonly("dtype", &Tensor::dtype)
      .def_property_readonly("backend", [](const Tensor& t) { return t.backend().name(); })
      .def_property_readonly("numel", &Tensor::numel)
      .def("numpy", &to_numpy, "A NumPy view of a host tensor (zero-copy; int4 as int8), a copy otherwise.")
      .def(
          "__array__",
          [](const Tensor& t, const py::object& dtype, const py::object& copy) {
            py::object array = to_numpy(t);
            if (!copy.is_none() && copy.cast<bool>()) array = array.attr("copy")();
            if (!dtype.is_none()) array = array.attr("astype")(dtype, py::arg("copy") = false);
            return array;
          },
          py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      .def_buffer([](Tensor& t) -> py::buffer_info {
        check(t.backend().host_accessible(), "tern.Tensor: the buffer protocol needs a host tensor (use .numpy())");
        const py::dtype type = numpy_dtype(t.dtype());
        std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
        std::vector<py::ssize_t> strides(shape.size());
        py::ssize_t stride = type.itemsize();
        for (std::size_t i = shape.size(); i-- > 0;) {
          strides[i] = stride;
          stride *= shape[i];
        }
        return py::buffer_info(t.raw(), type.itemsize(), py::str(type.attr("char")).cast<std::string>(),
                               static_cast<py::ssize_t>(shape.size()), shape, strides);
      })
      .def("cast", &Tensor::cast, py::arg("dtype"),
           "A host copy converted with saturation (integers truncate toward zero, then clamp).")
      .def("clone", &Tensor::clone, "A deep copy.")
      .def("__len__",
           [](const Tensor& t) {
             check(t.shape().rank() > 0, "tern.Tensor: a scalar tensor has no len()");
             return t.shape()[0];
           })
      .def("__repr__", [](const Tensor& t) { return "tern.Tensor(" + t.describe() + ")"; });
}

} // namespace tern::python
