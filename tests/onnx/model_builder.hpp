#pragma once
// Small ONNX models built in C++ for the suites, and files to load them from.

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "temp_dir.hpp"

namespace tern::onnx_test {

using test::TempDir;

/// A dimension: a number, or a dim_param name ("N").
using Dim = std::variant<std::int64_t, std::string>;

/// Builds a ModelProto: ir_version 8, one default-domain opset.
class ModelBuilder {
public:
  explicit ModelBuilder(std::int64_t opset = 13);
  ModelBuilder& input(const std::string& name, const std::vector<Dim>& dims, int elem_type = onnx::TensorProto::FLOAT);
  /// A graph output (the ONNX 1.12 checker wants a shape on it; Tern infers its own).
  ModelBuilder& output(const std::string& name, const std::vector<Dim>& dims, int elem_type = onnx::TensorProto::FLOAT);
  /// A float32 initializer in raw_data.
  ModelBuilder& floats(const std::string& name, const std::vector<std::int64_t>& dims,
                       const std::vector<float>& values);
  /// An int64 initializer in int64_data (the typed field).
  ModelBuilder& int64s(const std::string& name, const std::vector<std::int64_t>& dims,
                       const std::vector<std::int64_t>& values);
  /// Appends a node and returns it, to add attributes with set_attr().
  onnx::NodeProto& node(const std::string& op_type, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = {});
  onnx::ModelProto& proto() { return model_; }
  /// Serializes to `path` and returns it.
  std::filesystem::path save(const std::filesystem::path& path) const;

private:
  onnx::ModelProto model_;
};

void set_attr(onnx::NodeProto& node, const std::string& name, std::int64_t value);
void set_attr(onnx::NodeProto& node, const std::string& name, float value);
void set_attr(onnx::NodeProto& node, const std::string& name, const std::string& value);
void set_attr(onnx::NodeProto& node, const std::string& name, const std::vector<std::int64_t>& values);
void set_attr(onnx::NodeProto& node, const std::string& name, const std::vector<float>& values);
void set_attr(onnx::NodeProto& node, const std::string& name, const onnx::TensorProto& value);

/// A float32 TensorProto in raw_data.
onnx::TensorProto float_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                               const std::vector<float>& values);

/// The bytes of a file.
std::string read_bytes(const std::filesystem::path& path);
/// Writes `bytes` to `path` and returns it.
std::filesystem::path write_bytes(const std::filesystem::path& path, const std::string& bytes);

} // namespace tern::onnx_test
