#pragma once
// Attribute values to and from Python objects.

#include <tern/attributes.hpp>

#include <pybind11/pybind11.h>

namespace tern::python {

namespace py = pybind11;

/// int, float, str, list of ints, list of floats or NumPy array (a Tensor's values).
py::object to_python(const Attribute& value);

/// The Attribute for a Python value: bool/int, float, str, a DataType (stored as its name,
/// the form of the quantization.ptq.* tags), a sequence of ints or of numbers, or a
/// tern.Tensor / NumPy array. Throws tern::Error naming `key` for anything else.
Attribute to_attribute(const std::string& key, const py::handle& value);

} // namespace tern::python
