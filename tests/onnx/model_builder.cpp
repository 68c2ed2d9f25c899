#include "model_builder.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tern::onnx_test {

ModelBuilder::ModelBuilder(std::int64_t opset) {
  model_.set_ir_version(8);
  model_.set_producer_name("tern-onnx-tests");
  onnx::OperatorSetIdProto& import = *model_.add_opset_import();
  import.set_domain("");
  import.set_version(opset);
  model_.mutable_graph()->set_name("test");
}

namespace {
void describe_value(onnx::ValueInfoProto& info, const std::string& name, const std::vector<Dim>& dims, int elem_type) {
  info.set_name(name);
  onnx::TypeProto_Tensor& type = *info.mutable_type()->mutable_tensor_type();
  type.set_elem_type(elem_type);
  onnx::TensorShapeProto& shape = *type.mutable_shape();
  for (const Dim& dim : dims) {
    if (const auto* value = std::get_if<std::int64_t>(&dim))
      shape.add_dim()->set_dim_value(*value);
    else
      shape.add_dim()->set_dim_param(std::get<std::string>(dim));
  }
}
} // namespace

ModelBuilder& ModelBuilder::input(const std::string& name, const std::vector<Dim>& dims, int elem_type) {
  describe_value(*model_.mutable_graph()->add_input(), name, dims, elem_type);
  return *this;
}

ModelBuilder& ModelBuilder::output(const std::string& name, const std::vector<Dim>& dims, int elem_type) {
  describe_value(*model_.mutable_graph()->add_output(), name, dims, elem_type);
  return *this;
}

onnx::TensorProto float_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                               const std::vector<float>& values) {
  onnx::TensorProto tensor;
  tensor.set_name(name);
  tensor.set_data_type(onnx::TensorProto::FLOAT);
  for (std::int64_t d : dims) tensor.add_dims(d);
  // A range copy: memcpy from an empty vector's data() (null) would be undefined.
  const auto* bytes = reinterpret_cast<const char*>(values.data());
  tensor.set_raw_data(std::string(bytes, bytes + values.size() * sizeof(float)));
  return tensor;
}

ModelBuilder& ModelBuilder::floats(const std::string& name, const std::vector<std::int64_t>& dims,
                                   const std::vector<float>& values) {
  *model_.mutable_graph()->add_initializer() = float_tensor(name, dims, values);
  return *this;
}

ModelBuilder& ModelBuilder::int64s(const std::string& name, const std::vector<std::int64_t>& dims,
                                   const std::vector<std::int64_t>& values) {
  onnx::TensorProto& tensor = *model_.mutable_graph()->add_initializer();
  tensor.set_name(name);
  tensor.set_data_type(onnx::TensorProto::INT64);
  for (std::int64_t d : dims) tensor.add_dims(d);
  for (std::int64_t v : values) tensor.add_int64_data(v);
  return *this;
}

onnx::NodeProto& ModelBuilder::node(const std::string& op_type, const std::vector<std::string>& inputs,
                                    const std::vector<std::string>& outputs, const std::string& name) {
  onnx::NodeProto& node = *model_.mutable_graph()->add_node();
  node.set_op_type(op_type);
  node.set_name(name);
  for (const std::string& input : inputs) node.add_input(input);
  for (const std::string& output : outputs) node.add_output(output);
  return node;
}

std::filesystem::path ModelBuilder::save(const std::filesystem::path& path) const {
  return write_bytes(path, model_.SerializeAsString());
}

namespace {
onnx::AttributeProto& add(onnx::NodeProto& node, const std::string& name, onnx::AttributeProto::AttributeType type) {
  onnx::AttributeProto& attribute = *node.add_attribute();
  attribute.set_name(name);
  attribute.set_type(type);
  return attribute;
}
} // namespace

void set_attr(onnx::NodeProto& node, const std::string& name, std::int64_t value) {
  add(node, name, onnx::AttributeProto::INT).set_i(value);
}
void set_attr(onnx::NodeProto& node, const std::string& name, float value) {
  add(node, name, onnx::AttributeProto::FLOAT).set_f(value);
}
void set_attr(onnx::NodeProto& node, const std::string& name, const std::string& value) {
  add(node, name, onnx::AttributeProto::STRING).set_s(value);
}
void set_attr(onnx::NodeProto& node, const std::string& name, const std::vector<std::int64_t>& values) {
  onnx::AttributeProto& attribute = add(node, name, onnx::AttributeProto::INTS);
  for (std::int64_t v : values) attribute.add_ints(v);
}
void set_attr(onnx::NodeProto& node, const std::string& name, const std::vector<float>& values) {
  onnx::AttributeProto& attribute = add(node, name, onnx::AttributeProto::FLOATS);
  for (float v : values) attribute.add_floats(v);
}
void set_attr(onnx::NodeProto& node, const std::string& name, const onnx::TensorProto& value) {
  *add(node, name, onnx::AttributeProto::TENSOR).mutable_t() = value;
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::move(bytes).str();
}

std::filesystem::path write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.good()) throw std::runtime_error("cannot write " + path.string());
  return path;
}

} // namespace tern::onnx_test
