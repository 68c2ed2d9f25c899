// tern._tern: the extension module the `tern` package imports (sdk/python/tern/__init__.py).
#include "bindings.hpp"

#include <tern/error.hpp>
#include <tern/version.hpp>

namespace tern::python {

PYBIND11_MODULE(_tern, module) {
  module.doc() = "Tern's C++ API (<tern/tern.hpp>) for Python; import tern, not tern._tern.";
  // tern::Error becomes tern.Error (a RuntimeError) with Tern's one-line message.
  py::register_exception<Error>(module, "Error", PyExc_RuntimeError);
  module.attr("__version__") = version();
  bind_tensor(module);
  bind_graph(module);
  bind_runtime(module);
  bind_ptq(module);
}

} // namespace tern::python
