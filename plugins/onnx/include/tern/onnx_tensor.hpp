#pragma once
/// \file onnx_tensor.hpp
/// ONNX TensorProto files (the input_0.pb / output_0.pb of ONNX's test data) as Tern
/// tensors. Library target `tern_onnx_io`: it links the ONNX protobuf code privately, so
/// this header names no ONNX type and users need no ONNX headers.

#include <tern/tensor.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace tern {

/// A tensor with the name a TensorProto carries (often the graph value it feeds).
struct NamedTensor {
  std::string name;
  Tensor tensor;
};

/// Parses a serialized TensorProto into a host tensor. `source` names the bytes in errors
/// ("input_0.pb"). Accepts float32/64, int8/16/32/64, uint8 and bool in raw_data
/// (little-endian) or the typed fields; throws tern::Error for anything else.
NamedTensor parse_tensor_pb(std::string_view bytes, const std::string& source);
/// Reads a TensorProto file (e.g. test_data_set_0/input_0.pb) into a host tensor.
Tensor read_tensor_pb(const std::filesystem::path& path);
/// Like read_tensor_pb(), keeping the stored name.
NamedTensor read_named_tensor_pb(const std::filesystem::path& path);
/// Serializes a host tensor as a TensorProto (raw_data, little-endian) named `name`.
/// int4/uint4 have no ONNX 1.12 type: throws tern::Error.
std::string serialize_tensor_pb(const Tensor& tensor, const std::string& name = {});
/// Writes serialize_tensor_pb() to `path`.
void write_tensor_pb(const std::filesystem::path& path, const Tensor& tensor, const std::string& name = {});

} // namespace tern
