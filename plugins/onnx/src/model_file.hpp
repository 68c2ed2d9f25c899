#pragma once
// Model files in and out: reading and vetting a ModelProto (format, opsets, external
// data, the ONNX checker) before any Tern object is built, and writing one.

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>

namespace tern::onnx_plugin {

/// The opsets of the default ONNX domain Tern reads: 7 up to ONNX 1.12's newest.
inline constexpr std::int64_t min_opset = 7;
inline constexpr std::int64_t max_opset = 17;

/// Reads `path` (never modifying it) into a ModelProto whose external tensor data has been
/// read into the tensors, whose opsets and domains Tern reads, and which passes the ONNX
/// checker. Errors do not name the path: the caller adds it (see errors.hpp).
onnx::ModelProto read_model(const std::filesystem::path& path);
/// The model's opset of the default domain (read_model() has checked it).
std::int64_t default_opset(const onnx::ModelProto& model);
/// Serializes `model` to `path`.
void write_model(const onnx::ModelProto& model, const std::filesystem::path& path);

} // namespace tern::onnx_plugin
