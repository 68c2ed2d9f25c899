#pragma once
// TensorProto <-> tern::Tensor and ONNX element type <-> tern::DataType: the one place
// where ONNX data meets Tern data. Private to tern_onnx_io and the onnx plugin (it names
// ONNX types; the public face is <tern/onnx_tensor.hpp>).

#include <tern/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <optional>
#include <string>

namespace tern::onnx_io {

/// The Tern type of an ONNX TensorProto_DataType value; nullopt for types Tern lacks
/// (float16, uint16, string, ...).
std::optional<DataType> from_onnx_type(std::int32_t onnx_type);
/// The ONNX type of a Tern type; throws tern::Error naming `what` for int4/uint4, which
/// ONNX 1.12 cannot store.
std::int32_t to_onnx_type(DataType type, const std::string& what);
/// "FLOAT16", "STRING", ...: an ONNX type in messages.
std::string onnx_type_name(std::int32_t onnx_type);

/// A host tensor holding `proto`'s data (raw_data or the typed field). The data must be
/// in the proto: external data is resolved by the model reader first. Errors name `what`.
Tensor from_proto(const onnx::TensorProto& proto, const std::string& what);
/// A TensorProto named `name` with `tensor`'s data as little-endian raw_data.
onnx::TensorProto to_proto(const Tensor& tensor, const std::string& name);

} // namespace tern::onnx_io
