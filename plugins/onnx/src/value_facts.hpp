#pragma once
// What ONNX's own shape inference knows of each value before Tern builds anything. Some
// opset normalisations need it: Clip-6's bounds become inputs of the data's element type,
// and Softmax-11 is rewritten by the rank of its input.

#include <tern/dtype.hpp>

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tern::onnx_plugin {

/// Element type and dimensions of one value; a dimension ONNX does not know is -1.
struct ValueFact {
  std::optional<DataType> dtype;
  std::optional<std::vector<std::int64_t>> dims; ///< nullopt when even the rank is unknown
};

class ValueFacts {
public:
  /// Runs ONNX shape inference on a copy of `model` and collects every typed value.
  explicit ValueFacts(const onnx::ModelProto& model);
  /// The facts about `name`; empty ones when ONNX knows nothing.
  ValueFact find(const std::string& name) const;

private:
  std::map<std::string, ValueFact> facts_;
};

} // namespace tern::onnx_plugin
