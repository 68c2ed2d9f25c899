#include "attribute_cast.hpp"

#include "numpy_tensor.hpp"

#include <tern/error.hpp>

#include <pybind11/stl.h>

namespace tern::python {

py::object to_python(const Attribute& value) {
  return std::visit(
      [](const auto& held) -> py::object {
        using T = std::decay_t<decltype(held)>;
        if constexpr (std::is_same_v<T, Tensor>)
          return to_numpy(held);
        else
          return py::cast(held);
      },
      value);
}

namespace {

// numbers.Integral / numbers.Real: Python's and NumPy's scalars alike (np.int64 is no int).
bool is_integral(const py::handle& value) {
  return py::isinstance(value, py::module_::import("numbers").attr("Integral"));
}
bool is_real(const py::handle& value) { return py::isinstance(value, py::module_::import("numbers").attr("Real")); }
std::int64_t as_int(const py::handle& value) {
  return py::int_(py::reinterpret_borrow<py::object>(value)).cast<std::int64_t>();
}
double as_real(const py::handle& value) { return py::float_(py::reinterpret_borrow<py::object>(value)).cast<double>(); }

} // namespace

Attribute to_attribute(const std::string& key, const py::handle& value) {
  if (is_integral(value)) return as_int(value);
  if (is_real(value)) return as_real(value);
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<DataType>(value)) return std::string(name(value.cast<DataType>()));
  if (py::isinstance<Tensor>(value) || py::isinstance<py::array>(value)) return to_tensor(value, std::nullopt, true);
  if (py::isinstance<py::sequence>(value)) {
    const auto items = value.cast<py::sequence>();
    bool all_ints = true;
    for (const py::handle item : items) {
      const bool is_int = is_integral(item);
      check(is_int || is_real(item), [&] {
        return "attribute '" + key + "': a list must hold numbers, not " +
               py::str(py::type::of(item)).cast<std::string>();
      });
      all_ints = all_ints && is_int;
    }
    std::vector<std::int64_t> ints;
    std::vector<double> reals;
    for (const py::handle item : items) {
      if (all_ints)
        ints.push_back(as_int(item));
      else
        reals.push_back(as_real(item));
    }
    if (all_ints) return ints;
    return reals;
  }
  throw Error("attribute '" + key + "': " + py::str(py::type::of(value)).cast<std::string>() +
              " is not an attribute type (int, float, str, DataType, list of numbers, Tensor or array)");
}

} // namespace tern::python
