#pragma once
// ONNX AttributeProto <-> tern::Attribute. ONNX floats widen to double on import and
// narrow back on export; Tern has no graph, sparse-tensor, type or string-list attributes.

#include <tern/attributes.hpp>

#include <onnx/onnx_pb.h>

#include <string>

namespace tern::onnx_plugin {

/// The Tern value of `proto`; throws naming `what` (the node) for kinds Tern lacks.
Attribute attribute_from_proto(const onnx::AttributeProto& proto, const std::string& what);
/// An AttributeProto named `name` holding `value`.
onnx::AttributeProto attribute_to_proto(const std::string& name, const Attribute& value);
/// Value equality (tensors compare by dtype, shape and values).
bool same_attribute(const Attribute& a, const Attribute& b);

} // namespace tern::onnx_plugin
