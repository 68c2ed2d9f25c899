// Schema lookups and the checks that apply a schema to a node.
#include <tern/graph.hpp>
#include <tern/operator.hpp>

#include <tern/checked_math.hpp>
#include <tern/registry.hpp>

#include <algorithm>
#include <string_view>

namespace tern {

InferenceContext::InferenceContext(const Node& node, std::vector<Input> inputs, std::size_t output_count)
    : node_(node), inputs_(std::move(inputs)), outputs_(output_count) {}

const InferenceContext::Input& InferenceContext::input(std::size_t i) const {
  require(has_input(i), [&] { return "input " + std::to_string(i) + " is required but absent"; });
  return inputs_[i];
}

const Tensor* InferenceContext::value(std::size_t i) const {
  if (!has_input(i)) return nullptr;
  read_varying_data_ = read_varying_data_ || inputs_[i].varies;
  return inputs_[i].value;
}

bool InferenceContext::has_attr(const std::string& key) const { return node_.attrs().has(key); }

void InferenceContext::set_output(std::size_t i, DataType dtype, Shape shape) {
  if (i < outputs_.size()) outputs_[i] = std::make_pair(dtype, std::move(shape));
}

void InferenceContext::fail(const std::string& message) const { throw Error(node_.describe() + ": " + message); }

const AttributeSpec* OpSchema::attribute(const std::string& key) const {
  for (const AttributeSpec& spec : attributes)
    if (spec.name == key) return &spec;
  return nullptr;
}

void throw_missing_default(const std::string& key, const Node& node) {
  throw Error(node.describe() + ": attribute '" + key + "' is not set and has no default of the requested type");
}

const OpSchema* find_schema(const std::string& op_type) { return Registry::current().find_schema(op_type); }

const OpSchema& schema(const std::string& op_type) {
  const OpSchema* found = find_schema(op_type);
  check(found != nullptr, [&] { return "unknown operator type '" + op_type + "'"; });
  return *found;
}

std::vector<std::string> registered_op_types() { return Registry::current().op_types(); }

void check_against_schema(const Node& node) {
  const OpSchema* spec = find_schema(node.op_type());
  check(spec != nullptr, [&] { return node.describe() + ": unknown operator type '" + node.op_type() + "'"; });
  const auto arity = [&](const char* what, std::size_t count, int low, int high) {
    check(count >= static_cast<std::size_t>(low) && count <= static_cast<std::size_t>(high), [&] {
      return node.describe() + " has " + std::to_string(count) + " " + what + ", " + node.op_type() + " takes " +
             (low == high ? std::to_string(low) : std::to_string(low) + " to " + std::to_string(high));
    });
  };
  arity("inputs", node.inputs().size(), spec->min_inputs, spec->max_inputs);
  arity("outputs", node.outputs().size(), spec->min_outputs, spec->max_outputs);
  for (std::size_t i = 0; i < static_cast<std::size_t>(spec->min_inputs); ++i)
    check(node.input(i) != nullptr,
          [&] { return node.describe() + ": required input " + std::to_string(i) + " is absent"; });
  for (const auto& [key, value] : node.attrs().all()) {
    const AttributeSpec* attribute = spec->attribute(key);
    check(attribute != nullptr,
          [&] { return node.describe() + " has attribute '" + key + "', which " + node.op_type() + " does not take"; });
    check(type_of(value) == attribute->type, [&] {
      return node.describe() + ": attribute '" + key + "' must be " + name(attribute->type) + ", got " +
             name(type_of(value));
    });
  }
  for (const AttributeSpec& attribute : spec->attributes)
    check(!attribute.required || node.attrs().has(attribute.name),
          [&] { return node.describe() + ": required attribute '" + attribute.name + "' is missing"; });
}

Inference infer(const Node& node, std::vector<InferenceContext::Input> inputs) {
  check_against_schema(node);
  InferenceContext context(node, std::move(inputs), node.outputs().size());
  const std::string prefix = node.describe() + ": ";
  try {
    schema(node.op_type()).infer(context);
  } catch (const Error& e) {
    // What a helper that does not know the node threw (Shape, Tensor, ...) names it too.
    if (std::string_view(e.what()).starts_with(prefix)) throw;
    throw Error(prefix + e.what());
  }
  Inference result{{}, context.read_varying_data()};
  for (std::size_t i = 0; i < context.outputs().size(); ++i) {
    if (!context.outputs()[i]) throw Error(prefix + "shape inference did not produce output " + std::to_string(i));
    const auto& [dtype, shape] = *context.outputs()[i];
    // Each dimension may fit int64 while their product does not (Tile, Expand, Resize, ...):
    // such a shape is refused here, naming the node, rather than when something counts it.
    std::vector<std::int64_t> known;
    for (const std::int64_t d : shape)
      if (d != Shape::dynamic) known.push_back(d);
    const bool negative = std::any_of(known.begin(), known.end(), [](std::int64_t d) { return d < 0; });
    check(!negative && try_element_count(known).has_value(), [&] {
      return prefix + "output " + std::to_string(i) + " ('" + node.output(i)->name() + "') would be " +
             std::string(name(dtype)) + shape.to_string() +
             (negative ? ", with a negative dimension" : ", more elements than int64 counts");
    });
    result.outputs.push_back(*context.outputs()[i]);
  }
  return result;
}

std::vector<std::pair<DataType, Shape>> infer_node(const Node& node, std::vector<InferenceContext::Input> inputs) {
  return infer(node, std::move(inputs)).outputs;
}

} // namespace tern
