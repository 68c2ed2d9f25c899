// The public <tern/onnx_tensor.hpp>: TensorProto files through tensor_proto.cpp.
#include <tern/onnx_tensor.hpp>

#include "tensor_proto.hpp"

#include <fstream>
#include <sstream>

namespace tern {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), [&] { return path.string() + ": cannot open the tensor file"; });
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::move(bytes).str();
}

} // namespace

NamedTensor parse_tensor_pb(std::string_view bytes, const std::string& source) {
  onnx::TensorProto proto;
  // An empty buffer parses as an empty TensorProto: refuse it explicitly.
  check(!bytes.empty(), [&] { return source + ": not an ONNX TensorProto: it is empty"; });
  check(proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())),
        [&] { return source + ": not an ONNX TensorProto: the bytes do not parse (truncated or another format)"; });
  const std::string what = source + ": tensor" + (proto.name().empty() ? "" : " '" + proto.name() + "'");
  return {proto.name(), onnx_io::from_proto(proto, what)};
}

NamedTensor read_named_tensor_pb(const std::filesystem::path& path) {
  return parse_tensor_pb(read_file(path), path.string());
}

Tensor read_tensor_pb(const std::filesystem::path& path) { return read_named_tensor_pb(path).tensor; }

std::string serialize_tensor_pb(const Tensor& tensor, const std::string& name) {
  return onnx_io::to_proto(tensor, name).SerializeAsString();
}

void write_tensor_pb(const std::filesystem::path& path, const Tensor& tensor, const std::string& name) {
  const std::string bytes = serialize_tensor_pb(tensor, name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  check(out.good(), [&] { return path.string() + ": cannot write the tensor file"; });
}

} // namespace tern
