#pragma once
/// \file operator.hpp
/// Operator schemas: arity, attributes with defaults, and shape + dtype inference.
/// The core registers the schemas of its built-in operators; plugins add their own under a
/// domain of theirs (PluginContext::add_schema), and may never replace one.

#include <tern/attributes.hpp>
#include <tern/dtype.hpp>
#include <tern/shape.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tern {

class Node;

/// One attribute an operator accepts.
struct AttributeSpec {
  std::string name;   ///< the attribute's key
  AttributeType type; ///< the kind of value it must hold
  /// Used when the node does not set the attribute; nullopt with required=false means
  /// "absent is meaningful" (e.g. Conv's kernel_shape, taken from the weights).
  std::optional<Attribute> default_value;
  bool required = false; ///< a node without it is invalid
};

/// What a schema's inference function sees of a node, and where it writes results.
class InferenceContext {
public:
  /// What is known of one input before (or while) running.
  struct Input {
    bool present = false;               ///< false for an absent optional input
    DataType dtype = DataType::Float32; ///< its element type
    Shape shape;                        ///< its shape (dynamic dims allowed at compile time)
    const Tensor* value = nullptr;      ///< constant data when known (initializers, run time)
    bool varies = false;                ///< `value` is run-time data that may change between runs
  };

  /// The context for `node` with one Input per node input and `output_count` outputs.
  InferenceContext(const Node& node, std::vector<Input> inputs, std::size_t output_count);

  /// The node being inferred.
  const Node& node() const { return node_; }
  /// Number of inputs, absent optional ones included.
  std::size_t input_count() const { return inputs_.size(); }
  /// True when input `i` exists and is present.
  bool has_input(std::size_t i) const { return i < inputs_.size() && inputs_[i].present; }
  /// Throws (naming the input) when input `i` is absent.
  const Input& input(std::size_t i) const;
  /// Shape of input `i` (throws when absent).
  const Shape& shape(std::size_t i) const { return input(i).shape; }
  /// Element type of input `i` (throws when absent).
  DataType dtype(std::size_t i) const { return input(i).dtype; }
  /// Constant data of input `i`, or nullptr when not known before running.
  const Tensor* value(std::size_t i) const;
  /// True when inference read data that may change between runs (so its result depends on
  /// more than the input shapes, and may not be reused).
  bool read_varying_data() const { return read_varying_data_; }
  /// Attribute `key` of the node, or the schema default.
  template <class T> T attr(const std::string& key) const;
  /// True when the node itself sets `key` (schema defaults do not count).
  bool has_attr(const std::string& key) const;

  /// Number of outputs the node has.
  std::size_t output_count() const { return outputs_.size(); }
  /// Sets output `i`'s type. Outputs the node does not have (an optional output it leaves
  /// out, e.g. MaxPool's Indices) are ignored, so schemas may set every output they know.
  void set_output(std::size_t i, DataType dtype, Shape shape);
  /// Results: (dtype, shape) per output; an output never set is an error for the caller.
  const std::vector<std::optional<std::pair<DataType, Shape>>>& outputs() const { return outputs_; }

  /// Throws tern::Error("<node>: <message>").
  [[noreturn]] void fail(const std::string& message) const;
  /// fail(message) unless `condition`.
  void require(bool condition, const std::string& message) const {
    if (!condition) fail(message);
  }
  /// fail(make_message()) unless `condition`: the message is built only on failure.
  template <class MakeMessage>
  requires std::is_invocable_r_v<std::string, MakeMessage>
  void require(bool condition, MakeMessage&& make_message) const {
    if (!condition) fail(make_message());
  }

private:
  const Node& node_;
  std::vector<Input> inputs_;
  mutable bool read_varying_data_ = false;
  std::vector<std::optional<std::pair<DataType, Shape>>> outputs_;
};

/// The contract of one operator type.
struct OpSchema {
  std::string op_type;                   ///< e.g. "Conv"
  int min_inputs = 1;                    ///< inputs a node must have (optional ones counted in max)
  int max_inputs = 1;                    ///< inputs a node may have
  int min_outputs = 1;                   ///< outputs a node must have
  int max_outputs = 1;                   ///< outputs a node may have
  std::vector<AttributeSpec> attributes; ///< every attribute it accepts
  /// Sets every output's dtype and shape from the inputs; calls ctx.fail() on bad input.
  std::function<void(InferenceContext&)> infer;
  /// "" for ONNX's default domain (the core's operators); a plugin's operators name the
  /// plugin's own domain, e.g. "tern.ptq".
  std::string domain = {};

  /// The spec of attribute `key`, or nullptr.
  const AttributeSpec* attribute(const std::string& key) const;
  /// The default of attribute `key` as T; throws naming `node` when there is none.
  template <class T> T default_of(const std::string& key, const Node& node) const;
};

/// The schema of `op_type` in the current registry (see registry.hpp), or nullptr.
const OpSchema* find_schema(const std::string& op_type);
/// The schema of `op_type`; throws "unknown operator" otherwise.
const OpSchema& schema(const std::string& op_type);
/// Every registered operator type, sorted.
std::vector<std::string> registered_op_types();

/// Throws when `node` breaks its schema's arity or attribute rules (names the node).
void check_against_schema(const Node& node);
/// What inference found for one node: a (dtype, shape) per output.
struct Inference {
  std::vector<std::pair<DataType, Shape>> outputs;
  bool read_varying_data = false; ///< see InferenceContext::read_varying_data()
};

/// Runs the schema's inference for `node` on the given input facts. Throws naming the node.
Inference infer(const Node& node, std::vector<InferenceContext::Input> inputs);
/// infer(...).outputs.
std::vector<std::pair<DataType, Shape>> infer_node(const Node& node, std::vector<InferenceContext::Input> inputs);

/// Throws tern::Error: attribute `key` of `node` is unset and has no default (for default_of).
[[noreturn]] void throw_missing_default(const std::string& key, const Node& node);

template <class T> T OpSchema::default_of(const std::string& key, const Node& node) const {
  const AttributeSpec* spec = attribute(key);
  if (spec == nullptr || !spec->default_value) throw_missing_default(key, node);
  const T* typed = std::get_if<T>(&*spec->default_value);
  if (typed == nullptr) throw_missing_default(key, node);
  return *typed;
}

} // namespace tern

#include <tern/graph.hpp>

template <class T> T tern::InferenceContext::attr(const std::string& key) const { return node_.attr<T>(key); }
