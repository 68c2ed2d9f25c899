#include "attribute_convert.hpp"

#include "tensor_proto.hpp"

namespace tern::onnx_plugin {

using onnx::AttributeProto;

Attribute attribute_from_proto(const AttributeProto& proto, const std::string& what) {
  const std::string where = what + ": attribute '" + proto.name() + "'";
  switch (proto.type()) {
  case AttributeProto::INT: return proto.i();
  case AttributeProto::FLOAT: return static_cast<double>(proto.f());
  case AttributeProto::STRING: return proto.s();
  case AttributeProto::INTS: return std::vector<std::int64_t>(proto.ints().begin(), proto.ints().end());
  case AttributeProto::FLOATS: return std::vector<double>(proto.floats().begin(), proto.floats().end());
  case AttributeProto::TENSOR: return onnx_io::from_proto(proto.t(), where);
  default:
    throw Error(where + " is of ONNX kind " + AttributeProto::AttributeType_Name(proto.type()) +
                ", which Tern does not support");
  }
}

AttributeProto attribute_to_proto(const std::string& name, const Attribute& value) {
  AttributeProto proto;
  proto.set_name(name);
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          proto.set_type(AttributeProto::INT);
          proto.set_i(v);
        } else if constexpr (std::is_same_v<T, double>) {
          proto.set_type(AttributeProto::FLOAT);
          proto.set_f(static_cast<float>(v));
        } else if constexpr (std::is_same_v<T, std::string>) {
          proto.set_type(AttributeProto::STRING);
          proto.set_s(v);
        } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
          proto.set_type(AttributeProto::INTS);
          for (std::int64_t i : v) proto.add_ints(i);
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          proto.set_type(AttributeProto::FLOATS);
          for (double f : v) proto.add_floats(static_cast<float>(f));
        } else {
          proto.set_type(AttributeProto::TENSOR);
          *proto.mutable_t() = onnx_io::to_proto(v, name);
        }
      },
      value);
  return proto;
}

bool same_attribute(const Attribute& a, const Attribute& b) {
  if (a.index() != b.index()) return false;
  if (const auto* ta = std::get_if<Tensor>(&a)) {
    const Tensor& tb = std::get<Tensor>(b);
    return ta->dtype() == tb.dtype() && ta->shape() == tb.shape() && ta->to_doubles() == tb.to_doubles();
  }
  return std::visit(
      [&](const auto& va) {
        using T = std::decay_t<decltype(va)>;
        if constexpr (std::is_same_v<T, Tensor>)
          return false; // handled above
        else
          return va == std::get<T>(b);
      },
      a);
}

} // namespace tern::onnx_plugin
