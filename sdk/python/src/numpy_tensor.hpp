#pragma once
// Tensors to and from NumPy arrays: one dtype mapping, zero-copy wherever the memory allows.

#include <tern/tensor.hpp>

#include <pybind11/numpy.h>

#include <optional>

namespace tern::python {

namespace py = pybind11;

/// The NumPy dtype that holds `type` (int4 in int8, uint4 in uint8).
py::dtype numpy_dtype(DataType type);

/// A tensor over `object` (anything np.asarray takes, or a tern.Tensor). Shares the array's
/// memory when it is C-contiguous, aligned, writable and of a NumPy dtype Tern has, unless
/// `copy`; converts nothing: a `dtype` other than the array's throws tern::Error, and
/// int4/uint4 take int8/uint8 arrays whose values fit 4 bits.
Tensor to_tensor(const py::handle& object, std::optional<DataType> dtype = std::nullopt, bool copy = false);

/// A NumPy array over a host tensor's memory (it keeps the storage alive); a host copy of
/// a tensor in another backend's memory.
py::array to_numpy(const Tensor& tensor);

} // namespace tern::python
