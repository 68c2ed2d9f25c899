// The graph rewrite API: what recipes and passes use to change a graph in place.
#include <tern/graph.hpp>
#include <tern/registry.hpp>

#include <algorithm>

namespace tern {

void Graph::drop_unread(Value* value) {
  if (value == nullptr || value->producer() != nullptr || is_input(*value) || is_output(*value)) return;
  if (!consumers(*value).empty()) return;
  values_.erase(value->name());
}

Node& Graph::insert_after(Value& value, const std::string& op_type, Attributes attrs,
                          const std::vector<Value*>& extra_inputs, std::string name) {
  const std::vector<Node*> readers = consumers(value);
  const bool was_output = is_output(value);
  std::vector<std::string> inputs{value.name()};
  for (const Value* extra : extra_inputs) inputs.push_back(extra ? extra->name() : std::string());
  const std::string output = unique_name(value.name() + "_" + lowercase(op_type));
  Node& node = add_node(op_type, inputs, {output}, std::move(attrs), std::move(name));
  Value& inserted = *node.output();
  for (Node* reader : readers) std::replace(reader->inputs_.begin(), reader->inputs_.end(), &value, &inserted);
  std::replace(outputs_.begin(), outputs_.end(), &value, &inserted);
  if (was_output) {
    // Users address graph outputs by name ("logits"): the new value takes the name over.
    auto old_slot = std::move(values_[value.name()]);
    auto new_slot = std::move(values_[output]);
    std::swap(old_slot->name_, new_slot->name_);
    values_[new_slot->name_] = std::move(new_slot);
    values_[old_slot->name_] = std::move(old_slot);
  }
  return node;
}

void Graph::replace_uses(Value& from, Value& to) {
  for (const auto& node : nodes_)
    if (node.get() != to.producer()) std::replace(node->inputs_.begin(), node->inputs_.end(), &from, &to);
  std::replace(outputs_.begin(), outputs_.end(), &from, &to);
}

namespace {

/// `values` once each: a node may read one value twice (BatchNormalization's mean and var),
/// and dropping it twice would touch a freed value.
std::vector<Value*> distinct(std::vector<Value*> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

} // namespace

Node& Graph::replace_node(Node& node, const std::string& op_type, const std::vector<Value*>& inputs, Attributes attrs) {
  const std::vector<Value*> old_inputs = distinct(node.inputs_);
  node.op_type_ = op_type;
  node.inputs_ = inputs;
  node.attrs_ = std::move(attrs);
  for (Value* old : old_inputs) drop_unread(old);
  return node;
}

void Graph::remove_node(Node& node) {
  for (const Value* output : node.outputs_)
    check(consumers(*output).empty() && !is_output(*output),
          [&] { return "cannot remove " + node.describe() + ": its output '" + output->name() + "' is still read"; });
  const std::vector<Value*> inputs = distinct(node.inputs_);
  const std::vector<Value*> outputs = node.outputs_;
  nodes_.erase(std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& n) { return n.get() == &node; }));
  for (const Value* output : outputs) values_.erase(output->name());
  for (Value* input : inputs) drop_unread(input);
}

void Graph::bypass_node(Node& node) {
  Value* in = node.input(0);
  Value* out = node.output(0);
  check(in != nullptr, [&] { return "cannot bypass " + node.describe() + ": it has no first input"; });
  for (std::size_t i = 1; i < node.outputs_.size(); ++i)
    check(consumers(*node.outputs_[i]).empty() && !is_output(*node.outputs_[i]), [&] {
      return "cannot bypass " + node.describe() + ": its output '" + node.outputs_[i]->name() + "' is read";
    });
  const bool keep_output_name = is_output(*out) && in->producer() != nullptr && !is_output(*in);
  replace_uses(*out, *in);
  if (keep_output_name) {
    auto in_slot = std::move(values_[in->name()]);
    auto out_slot = std::move(values_[out->name()]);
    std::swap(in_slot->name_, out_slot->name_);
    values_[in_slot->name_] = std::move(in_slot);
    values_[out_slot->name_] = std::move(out_slot);
  }
  remove_node(node);
}

void Graph::set_constant(Value& value, Tensor data) {
  check(!is_input(value), [&] { return "cannot turn graph input '" + value.name() + "' into a constant"; });
  if (Node* producer = value.producer()) {
    // The producer keeps its arity through a placeholder output nobody reads.
    const std::string placeholder = unique_name(value.name() + "_unused");
    Value& detached = value_or_create(placeholder);
    detached.producer_ = producer;
    std::replace(producer->outputs_.begin(), producer->outputs_.end(), &value, &detached);
    value.producer_ = nullptr;
    const bool all_unread = std::all_of(producer->outputs_.begin(), producer->outputs_.end(),
                                        [&](const Value* v) { return consumers(*v).empty() && !is_output(*v); });
    if (all_unread) remove_node(*producer);
  }
  value.set_type(data.dtype(), data.shape());
  value.constant_ = std::move(data);
}

void Graph::remove_unused_values() {
  std::vector<Value*> unused;
  for (const auto& [name, value] : values_)
    if (value->producer() == nullptr && !is_input(*value) && !is_output(*value) && consumers(*value).empty())
      unused.push_back(value.get());
  for (Value* value : unused) values_.erase(value->name());
}

Graph Graph::clone() const {
  Graph copy;
  for (const auto& [name, value] : values_) {
    Value& twin = copy.value_or_create(name);
    twin.constant_ = value->constant_;
    twin.dtype_ = value->dtype_;
    twin.shape_ = value->shape_;
    twin.typed_ = value->typed_;
  }
  for (const auto& node : nodes_) {
    auto twin = std::unique_ptr<Node>(new Node(node->name_, node->op_type_));
    twin->attrs_ = node->attrs_;
    twin->meta_ = node->meta_;
    for (const Value* input : node->inputs_) twin->inputs_.push_back(input ? copy.find_value(input->name()) : nullptr);
    for (const Value* output : node->outputs_) {
      Value* value = copy.find_value(output->name());
      value->producer_ = twin.get();
      twin->outputs_.push_back(value);
    }
    copy.nodes_.push_back(std::move(twin));
  }
  for (const Value* input : inputs_) copy.inputs_.push_back(copy.find_value(input->name()));
  for (const Value* output : outputs_) copy.outputs_.push_back(copy.find_value(output->name()));
  copy.meta_ = meta_;
  return copy;
}

} // namespace tern
