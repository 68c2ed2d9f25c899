#pragma once
/// \file graph.hpp
/// The computation graph: SSA values (one producer each) and nodes, ordered graph inputs
/// and outputs, constants (initializers), a rewrite API, topological order and validation.

#include <tern/attributes.hpp>
#include <tern/dtype.hpp>
#include <tern/shape.hpp>
#include <tern/tensor.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tern {

class Node;
class Graph;

/// A named tensor flowing through the graph: a graph input, a constant, or a node output.
class Value {
public:
  /// The value's name, unique in its graph (graph inputs and outputs keep theirs).
  const std::string& name() const { return name_; }
  /// The node that computes this value; nullptr for graph inputs and constants.
  Node* producer() const { return producer_; }
  /// Constant data (an initializer), or nullptr.
  const Tensor* constant() const { return constant_ ? &*constant_ : nullptr; }
  /// Declared or inferred element type (meaningful once typed()).
  DataType dtype() const { return dtype_; }
  /// Declared or inferred shape; may have dynamic dimensions. Empty until inferred.
  const Shape& shape() const { return shape_; }
  /// True once a dtype and shape are known (declared, constant, or inferred).
  bool typed() const { return typed_; }
  /// Sets the dtype and shape (shape inference and importers do this).
  void set_type(DataType dtype, Shape shape) {
    dtype_ = dtype;
    shape_ = std::move(shape);
    typed_ = true;
  }

private:
  friend class Graph;
  explicit Value(std::string name) : name_(std::move(name)) {}
  std::string name_;
  Node* producer_ = nullptr;
  std::optional<Tensor> constant_;
  DataType dtype_ = DataType::Float32;
  Shape shape_;
  bool typed_ = false;
};

/// One operator application.
class Node {
public:
  /// The node's name, unique in its graph.
  const std::string& name() const { return name_; }
  /// The operator type, e.g. "Conv"; its schema is tern::schema(op_type()).
  const std::string& op_type() const { return op_type_; }
  /// Inputs in the operator's order; nullptr marks an absent optional input.
  const std::vector<Value*>& inputs() const { return inputs_; }
  /// Outputs in the operator's order.
  const std::vector<Value*>& outputs() const { return outputs_; }
  /// Input `index`, or nullptr when absent or beyond the end.
  Value* input(std::size_t index) const { return index < inputs_.size() ? inputs_[index] : nullptr; }
  /// Output `index`; throws std::out_of_range beyond the end.
  Value* output(std::size_t index = 0) const { return outputs_.at(index); }
  /// Operator attributes, checked against the operator's schema by Graph::validate().
  Attributes& attrs() { return attrs_; }
  /// Read-only attributes.
  const Attributes& attrs() const { return attrs_; }
  /// The attribute `key` as T, or the schema's default when the node does not set it.
  template <class T> T attr(const std::string& key) const;
  /// Free metadata, e.g. "quantization.ptq.precision"; never checked against the schema.
  Attributes& meta() { return meta_; }
  /// Read-only metadata.
  const Attributes& meta() const { return meta_; }
  /// "node 'conv1' (Conv)": how errors name a node.
  std::string describe() const;

private:
  friend class Graph;
  Node(std::string name, std::string op_type) : name_(std::move(name)), op_type_(std::move(op_type)) {}
  std::string name_;
  std::string op_type_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  Attributes attrs_;
  Attributes meta_;
};

/// A graph owns its nodes and values. Not copyable: use clone().
class Graph {
public:
  /// An empty graph.
  Graph();
  ~Graph();
  /// Movable (nodes and values keep their addresses); not copyable.
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // --- building -------------------------------------------------------------------------
  /// Adds a graph input (appended to the ordered input list); throws for a negative
  /// dimension other than Shape::dynamic.
  Value& add_input(const std::string& name, DataType dtype, Shape shape);
  /// Adds a constant (initializer) holding `data` (a host tensor).
  Value& add_constant(const std::string& name, Tensor data);
  /// Adds a node. Inputs are value names ("" for an absent optional input); a name not yet
  /// defined is created and must be produced later (validate() reports it otherwise).
  /// Outputs must not already have a producer (SSA). An empty node name gets a unique one.
  Node& add_node(const std::string& op_type, const std::vector<std::string>& inputs,
                 const std::vector<std::string>& outputs, Attributes attrs = {}, std::string name = {});
  /// Appends `name` to the ordered graph outputs.
  void add_output(const std::string& name);

  /// Model-level annotations that travel with the graph (cloned, saved by formats that can):
  /// e.g. the PTQ pass records here how inputs must be scaled for the quantized network.
  Attributes& meta() { return meta_; }
  const Attributes& meta() const { return meta_; }

  // --- reading --------------------------------------------------------------------------
  /// Graph inputs, in order (what forward() takes).
  const std::vector<Value*>& inputs() const { return inputs_; }
  /// Graph outputs, in order (what forward() returns).
  const std::vector<Value*>& outputs() const { return outputs_; }
  /// Nodes in insertion order (see topological_order() for execution order).
  std::vector<Node*> nodes() const;
  /// Number of nodes.
  std::size_t node_count() const { return nodes_.size(); }
  /// Every constant value, by name order.
  std::vector<Value*> constants() const;
  /// The value `name`, or nullptr.
  Value* find_value(const std::string& name) const;
  /// The node `name`, or nullptr.
  Node* find_node(const std::string& name) const;
  /// The value `name`; throws tern::Error when there is none.
  Value& value(const std::string& name) const;
  /// Nodes that read `value`, in insertion order (a node reading it twice appears once).
  std::vector<Node*> consumers(const Value& value) const;
  /// True when `value` is a graph output.
  bool is_output(const Value& value) const;
  /// True when `value` is a graph input.
  bool is_input(const Value& value) const;
  /// A name not used by any value or node, made from `base`.
  std::string unique_name(const std::string& base) const;

  // --- rewriting ------------------------------------------------------------------------
  /// Inserts `op_type` right after `value`: the new node reads `value` (then `extra_inputs`)
  /// and every former reader of `value`, and the graph output list, now read the new node's
  /// output. A graph output keeps its name: the new output takes it over.
  Node& insert_after(Value& value, const std::string& op_type, Attributes attrs = {},
                     const std::vector<Value*>& extra_inputs = {}, std::string name = {});
  /// Makes every reader of `from` (and the graph outputs) read `to` instead.
  void replace_uses(Value& from, Value& to);
  /// Replaces `node` by a new node of `op_type` over `inputs` that produces the same output
  /// values (so readers are untouched). Returns the new node.
  Node& replace_node(Node& node, const std::string& op_type, const std::vector<Value*>& inputs, Attributes attrs = {});
  /// Removes a node whose outputs nobody reads (throws otherwise), then drops values and
  /// constants left without readers.
  void remove_node(Node& node);
  /// Removes a node whose first output equals its first input (Identity, Dropout, a safe
  /// Flatten): readers of the output read the input instead. Graph outputs keep their name.
  void bypass_node(Node& node);
  /// Turns `value` into a constant holding `data` (detaching it from its producer, which
  /// is removed when it produces nothing else that is read).
  void set_constant(Value& value, Tensor data);
  /// Drops values that are neither read, produced, inputs nor outputs.
  void remove_unused_values();
  /// A deep copy (constants share their immutable storage).
  Graph clone() const;

  // --- checking -------------------------------------------------------------------------
  /// Nodes in an order where every producer precedes its readers; throws on a cycle and
  /// names a node on it.
  std::vector<Node*> topological_order() const;
  /// Throws tern::Error naming the node for: cycles, values read but never produced,
  /// unknown operators, arity outside the schema, missing/unknown/mistyped attributes,
  /// graph outputs that nothing produces.
  void validate() const;
  /// Runs every node's shape and dtype inference in topological order, setting each
  /// output value's type; throws naming the node on failure.
  void infer_shapes();

private:
  Value& value_or_create(const std::string& name);
  void drop_unread(Value* value);
  std::string fresh_node_name(const std::string& op_type) const;

  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<std::string, std::unique_ptr<Value>> values_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  Attributes meta_;
};

} // namespace tern

#include <tern/operator.hpp>

template <class T> T tern::Node::attr(const std::string& key) const {
  if (attrs_.has(key)) return attrs_.get<T>(key);
  return schema(op_type_).default_of<T>(key, *this);
}
