#include "numpy_tensor.hpp"

#include <tern/error.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace tern::python {
namespace {

/// The Tern type of a NumPy dtype, or nullopt for one Tern has no type for: numpy_dtype()
/// read backwards (int4/uint4 share int8/uint8's arrays and are only ever asked for).
std::optional<DataType> tern_type(const py::dtype& dtype) {
  for (const DataType type : {DataType::Float32, DataType::Float64, DataType::Int8, DataType::UInt8, DataType::Int16,
                              DataType::Int32, DataType::Int64, DataType::Bool}) {
    const py::dtype held = numpy_dtype(type);
    if (held.kind() == dtype.kind() && held.itemsize() == dtype.itemsize()) return type;
  }
  return std::nullopt;
}

std::string dtype_text(const py::dtype& dtype) {
  return py::str(static_cast<const py::handle&>(dtype)).cast<std::string>();
}

/// Checks that an int8/uint8 array holds only 4-bit values.
void check_four_bits(const Tensor& tensor, DataType dtype) {
  const DataTypeInfo& facts = info(dtype);
  const std::vector<double> values = tensor.to_doubles();
  const auto outside =
      std::find_if(values.begin(), values.end(), [&](double v) { return v < facts.lowest || v > facts.highest; });
  check(outside == values.end(), [&] {
    return "tern.Tensor: value " + std::to_string(static_cast<long long>(*outside)) + " at index " +
           std::to_string(outside - values.begin()) + " does not fit " + std::string(facts.name) + " [" +
           std::to_string(static_cast<int>(facts.lowest)) + ", " + std::to_string(static_cast<int>(facts.highest)) +
           "]";
  });
}

Shape shape_of(const py::array& array) {
  std::vector<std::int64_t> dims(array.shape(), array.shape() + array.ndim());
  return Shape(std::move(dims));
}

} // namespace

py::dtype numpy_dtype(DataType type) {
  switch (type) {
  case DataType::Float32: return py::dtype::of<float>();
  case DataType::Float64: return py::dtype::of<double>();
  case DataType::Int4:
  case DataType::Int8: return py::dtype::of<std::int8_t>();
  case DataType::UInt4:
  case DataType::UInt8: return py::dtype::of<std::uint8_t>();
  case DataType::Int16: return py::dtype::of<std::int16_t>();
  case DataType::Int32: return py::dtype::of<std::int32_t>();
  case DataType::Int64: return py::dtype::of<std::int64_t>();
  case DataType::Bool: return py::dtype::of<bool>();
  }
  throw Error("numpy_dtype: unknown data type");
}

Tensor to_tensor(const py::handle& object, std::optional<DataType> dtype, bool copy) {
  if (py::isinstance<Tensor>(object)) {
    const Tensor& tensor = object.cast<const Tensor&>();
    check(!dtype || *dtype == tensor.dtype(), [&] {
      return "tern.Tensor: the tensor is " + std::string(name(tensor.dtype())) + ", not " + std::string(name(*dtype)) +
             " (convert with .cast())";
    });
    return copy ? tensor.clone() : tensor;
  }
  py::array array = py::module_::import("numpy").attr("asarray")(object);
  // Non-native byte order ('>f4') is the same values in another layout: converted, not refused.
  if (array.dtype().attr("isnative").cast<bool>() == false)
    array = array.attr("astype")(array.dtype().attr("newbyteorder")("="));
  const std::optional<DataType> natural = tern_type(array.dtype());
  check(natural.has_value(), [&] {
    return "tern.Tensor: NumPy dtype " + dtype_text(array.dtype()) +
           " has no Tern element type (float32, float64, int8, uint8, int16, int32, int64, bool): convert it with "
           "astype() first";
  });
  const bool four_bits = dtype == DataType::Int4 || dtype == DataType::UInt4;
  const DataType held_as =
      four_bits ? (*dtype == DataType::Int4 ? DataType::Int8 : DataType::UInt8) : dtype.value_or(*natural);
  check(*natural == held_as, [&] {
    return "tern.Tensor: the array is " + dtype_text(array.dtype()) + ", not " + std::string(name(*dtype)) +
           (four_bits ? " (int4 takes int8 arrays, uint4 uint8)" : "") + ": convert it with astype() first";
  });
  const DataType type = dtype.value_or(*natural);
  const Shape shape = shape_of(array);
  const py::object flags = array.attr("flags");
  const bool shareable = flags.attr("c_contiguous").cast<bool>() && flags.attr("writeable").cast<bool>() &&
                         flags.attr("aligned").cast<bool>() && array.nbytes() > 0;
  Tensor tensor;
  if (shareable && !copy) {
    // The tensor's storage keeps the array alive; its last owner may be a thread without
    // the GIL (a forward pass runs without it), hence the acquire.
    auto* owner = new py::object(array);
    std::shared_ptr<std::byte> storage(static_cast<std::byte*>(array.mutable_data()), [owner](std::byte*) {
      py::gil_scoped_acquire gil;
      delete owner;
    });
    tensor = Tensor(shape, type, std::move(storage), host_backend());
  } else {
    tensor = Tensor(shape, type);
    if (tensor.bytes() > 0) {
      py::array contiguous = py::module_::import("numpy").attr("ascontiguousarray")(array);
      std::memcpy(tensor.raw(), contiguous.data(), tensor.bytes());
    }
  }
  if (four_bits) check_four_bits(tensor, type);
  return tensor;
}

py::array to_numpy(const Tensor& tensor) {
  const Tensor host = tensor.backend().host_accessible() ? tensor : tensor.to(host_backend());
  std::vector<py::ssize_t> shape(host.shape().begin(), host.shape().end());
  auto* keep = new Tensor(host);
  py::capsule base(keep, [](void* pointer) { delete static_cast<Tensor*>(pointer); });
  if (host.bytes() == 0) return py::array(numpy_dtype(host.dtype()), shape);
  return py::array(numpy_dtype(host.dtype()), shape, {}, keep->raw(), base);
}

} // namespace tern::python
