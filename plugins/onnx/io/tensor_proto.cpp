#include "tensor_proto.hpp"

#include <tern/checked_math.hpp>

#include <bit>
#include <cstring>
#include <optional>

namespace tern::onnx_io {
namespace {

using onnx::TensorProto;

// raw_data is little-endian by the ONNX spec; Tern tensors use host order. Every target
// Tern builds for is little-endian, so the bytes copy as they are.
static_assert(std::endian::native == std::endian::little, "the ONNX reader assumes a little-endian host");

struct TypePair {
  std::int32_t onnx;
  DataType tern;
};

// The one table of ONNX <-> Tern element types.
constexpr TypePair type_pairs[] = {
    {TensorProto::FLOAT, DataType::Float32}, {TensorProto::DOUBLE, DataType::Float64},
    {TensorProto::INT8, DataType::Int8},     {TensorProto::UINT8, DataType::UInt8},
    {TensorProto::INT16, DataType::Int16},   {TensorProto::INT32, DataType::Int32},
    {TensorProto::INT64, DataType::Int64},   {TensorProto::BOOL, DataType::Bool},
};

/// Copies `count` values of the typed field `field` into `out`, converting each with
/// tern::convert's rules (they are exact here: the field holds the type's own values).
template <class Field> void copy_typed(const Field& field, DataType field_type, Tensor& out) {
  using Element = typename Field::value_type;
  const std::vector<Element> values(field.begin(), field.end());
  convert(values.data(), field_type, out.raw(), out.dtype(), values.size());
}

/// The typed field that holds `type`'s values when raw_data is not used, its length,
/// and the Tern type of its elements.
template <class Fn> void with_typed_field(const TensorProto& proto, DataType type, Fn&& fn) {
  switch (type) {
  case DataType::Float32: return fn(proto.float_data(), DataType::Float32);
  case DataType::Float64: return fn(proto.double_data(), DataType::Float64);
  case DataType::Int64: return fn(proto.int64_data(), DataType::Int64);
  // int8/uint8/int16/bool are stored widened in int32_data.
  default: return fn(proto.int32_data(), DataType::Int32);
  }
}

} // namespace

std::optional<DataType> from_onnx_type(std::int32_t onnx_type) {
  for (const TypePair& pair : type_pairs)
    if (pair.onnx == onnx_type) return pair.tern;
  return std::nullopt;
}

std::int32_t to_onnx_type(DataType type, const std::string& what) {
  for (const TypePair& pair : type_pairs)
    if (pair.tern == type) return pair.onnx;
  throw Error(what + " is " + std::string(name(type)) +
              ", which ONNX 1.12 cannot store (4-bit types arrived in ONNX 1.16); convert it to int8/uint8 first");
}

std::string onnx_type_name(std::int32_t onnx_type) {
  const std::string text = TensorProto::DataType_IsValid(onnx_type)
                               ? TensorProto::DataType_Name(static_cast<TensorProto::DataType>(onnx_type))
                               : "";
  return text.empty() ? "type " + std::to_string(onnx_type) : text;
}

Tensor from_proto(const TensorProto& proto, const std::string& what) {
  const std::optional<DataType> type = from_onnx_type(proto.data_type());
  check(type.has_value(),
        [&] { return what + " has ONNX type " + onnx_type_name(proto.data_type()) + ", which Tern does not support"; });
  check(!proto.has_segment(), [&] { return what + " is a segment of a larger tensor, which Tern does not support"; });
  check(proto.data_location() != TensorProto::EXTERNAL,
        [&] { return what + " keeps its data in an external file that was not read"; });
  std::vector<std::int64_t> dims(proto.dims().begin(), proto.dims().end());
  for (std::int64_t d : dims) check(d >= 0, [&] { return what + " has a negative dimension " + std::to_string(d); });
  // What the dims promise is compared with the data the proto holds before anything is
  // allocated: a few bytes of data under dims that promise gigabytes cost nothing.
  const Shape shape(std::move(dims));
  const std::string facts = shape.to_string() + " " + std::string(name(*type));
  const std::optional<std::int64_t> count = try_element_count(shape.dims());
  check(count.has_value(), [&] { return what + " has dims " + facts + " whose element count overflows int64"; });
  // Allocated only once the data is known to fill it; over the size ceiling, the error names `what`.
  const auto allocate = [&] {
    try {
      return Tensor(shape, *type);
    } catch (const Error& e) {
      throw Error(what + ": " + e.what());
    }
  };

  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    const std::optional<std::int64_t> needed = try_mul(*count, static_cast<std::int64_t>(size_of(*type)));
    check(needed && raw.size() == static_cast<std::uint64_t>(*needed), [&] {
      return what + " holds " + std::to_string(raw.size()) + " bytes of raw data, but " + facts + " needs " +
             (needed ? std::to_string(*needed) : "more than 2^63");
    });
    Tensor tensor = allocate();
    if (*type == DataType::Bool) {
      // Any nonzero byte is true; copying bytes other than 0/1 into a bool would be UB.
      bool* out = tensor.data<bool>();
      for (std::size_t i = 0; i < raw.size(); ++i) out[i] = raw[i] != 0;
    } else {
      std::memcpy(tensor.raw(), raw.data(), raw.size());
    }
    return tensor;
  }
  std::optional<Tensor> result;
  with_typed_field(proto, *type, [&](const auto& field, DataType field_type) {
    check(static_cast<std::int64_t>(field.size()) == *count, [&] {
      return what + " holds " + std::to_string(field.size()) + " values, but its shape " + shape.to_string() +
             " needs " + std::to_string(*count);
    });
    result = allocate();
    copy_typed(field, field_type, *result);
  });
  return std::move(*result);
}

TensorProto to_proto(const Tensor& tensor, const std::string& name) {
  TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(to_onnx_type(tensor.dtype(), "tensor '" + name + "'"));
  for (std::int64_t d : tensor.shape()) proto.add_dims(d);
  const Tensor host = tensor.backend().host_accessible() ? tensor : tensor.to(host_backend());
  // bool is one byte of 0 or 1 in both layouts, so every type copies byte for byte.
  proto.set_raw_data(host.raw(), host.bytes());
  return proto;
}

} // namespace tern::onnx_io
