// Graph construction and queries. Rewrites live in graph_rewrite.cpp, checks in graph_check.cpp.
#include <tern/graph.hpp>

#include <algorithm>

namespace tern {

std::string Node::describe() const { return "node '" + name_ + "' (" + op_type_ + ")"; }

Graph::Graph() = default;
Graph::~Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;

Value& Graph::value_or_create(const std::string& name) {
  check(!name.empty(), "a value name must not be empty");
  auto& slot = values_[name];
  if (!slot) slot.reset(new Value(name));
  return *slot;
}

Value& Graph::add_input(const std::string& name, DataType dtype, Shape shape) {
  check(!values_.contains(name), [&] { return "graph input '" + name + "': a value of that name already exists"; });
  for (const std::int64_t d : shape)
    check(d >= 0 || d == Shape::dynamic, [&] {
      return "graph input '" + name + "' declares shape " + shape.to_string() + " with the negative dimension " +
             std::to_string(d) + " (dimensions are >= 0, or dynamic)";
    });
  Value& value = value_or_create(name);
  value.set_type(dtype, std::move(shape));
  inputs_.push_back(&value);
  return value;
}

Value& Graph::add_constant(const std::string& name, Tensor data) {
  check(data.defined(), [&] { return "constant '" + name + "' has no data"; });
  Value* existing = find_value(name);
  check(existing == nullptr || (existing->producer() == nullptr && !existing->constant() && !is_input(*existing)),
        [&] { return "constant '" + name + "': a value of that name is already defined"; });
  Value& value = value_or_create(name);
  value.set_type(data.dtype(), data.shape());
  value.constant_ = std::move(data);
  return value;
}

std::string Graph::fresh_node_name(const std::string& op_type) const {
  for (std::size_t i = nodes_.size();; ++i) {
    std::string candidate = op_type + "_" + std::to_string(i);
    if (find_node(candidate) == nullptr) return candidate;
  }
}

Node& Graph::add_node(const std::string& op_type, const std::vector<std::string>& inputs,
                      const std::vector<std::string>& outputs, Attributes attrs, std::string name) {
  if (name.empty()) name = fresh_node_name(op_type);
  check(find_node(name) == nullptr, [&] { return "node '" + name + "' already exists"; });
  check(!outputs.empty(), [&] { return "node '" + name + "' (" + op_type + ") has no outputs"; });
  for (const std::string& output : outputs) {
    const Value* existing = find_value(output);
    check(existing == nullptr || (existing->producer() == nullptr && !existing->constant() && !is_input(*existing)),
          [&] {
            return "node '" + name + "' (" + op_type + ") writes value '" + output +
                   "', which is already defined: every value has exactly one producer";
          });
  }
  auto node = std::unique_ptr<Node>(new Node(name, op_type));
  node->attrs_ = std::move(attrs);
  for (const std::string& input : inputs) node->inputs_.push_back(input.empty() ? nullptr : &value_or_create(input));
  for (const std::string& output : outputs) {
    Value& value = value_or_create(output);
    value.producer_ = node.get();
    node->outputs_.push_back(&value);
  }
  nodes_.push_back(std::move(node));
  return *nodes_.back();
}

void Graph::add_output(const std::string& name) { outputs_.push_back(&value_or_create(name)); }

std::vector<Node*> Graph::nodes() const {
  std::vector<Node*> result;
  result.reserve(nodes_.size());
  for (const auto& node : nodes_) result.push_back(node.get());
  return result;
}

std::vector<Value*> Graph::constants() const {
  std::vector<Value*> result;
  for (const auto& [name, value] : values_)
    if (value->constant()) result.push_back(value.get());
  return result;
}

Value* Graph::find_value(const std::string& name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? nullptr : it->second.get();
}

Node* Graph::find_node(const std::string& name) const {
  const auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& n) { return n->name() == name; });
  return it == nodes_.end() ? nullptr : it->get();
}

Value& Graph::value(const std::string& name) const {
  Value* value = find_value(name);
  check(value != nullptr, [&] { return "the graph has no value named '" + name + "'"; });
  return *value;
}

std::vector<Node*> Graph::consumers(const Value& value) const {
  std::vector<Node*> result;
  for (const auto& node : nodes_)
    if (std::find(node->inputs_.begin(), node->inputs_.end(), &value) != node->inputs_.end())
      result.push_back(node.get());
  return result;
}

bool Graph::is_output(const Value& value) const {
  return std::find(outputs_.begin(), outputs_.end(), &value) != outputs_.end();
}

bool Graph::is_input(const Value& value) const {
  return std::find(inputs_.begin(), inputs_.end(), &value) != inputs_.end();
}

std::string Graph::unique_name(const std::string& base) const {
  if (find_value(base) == nullptr && find_node(base) == nullptr) return base;
  for (std::size_t i = 1;; ++i) {
    std::string candidate = base + "_" + std::to_string(i);
    if (find_value(candidate) == nullptr && find_node(candidate) == nullptr) return candidate;
  }
}

} // namespace tern
