#include "import_node.hpp"

#include "attribute_convert.hpp"
#include "errors.hpp"
#include "tensor_proto.hpp"

#include <onnx/defs/schema.h>

#include <algorithm>
#include <limits>

namespace tern::onnx_plugin {
namespace {

using Ints = std::vector<std::int64_t>;

/// A node about to be added: rules edit it before the graph sees it.
struct Pending {
  std::string op_type;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  Attributes attrs;
  std::string name;
};

/// The Tern op type an ONNX op type becomes; most keep their name.
std::string tern_op_type(const std::string& onnx_op_type) {
  // Upsample (deprecated in opset 10) is a Resize with fixed coordinate rules.
  return onnx_op_type == "Upsample" ? "Resize" : onnx_op_type;
}

/// The Tern nodes one ONNX node expands to (usually one: main()), with the helpers rules use.
class Expansion {
public:
  Expansion(const onnx::NodeProto& node, NodeImport& context) : source(node), ctx(context) {
    Pending pending{tern_op_type(node.op_type()),
                    {node.input().begin(), node.input().end()},
                    {node.output().begin(), node.output().end()},
                    {},
                    node.name()};
    for (const onnx::AttributeProto& attribute : node.attribute())
      pending.attrs.set(attribute.name(), attribute_from_proto(attribute, describe_node(node)));
    nodes.push_back(std::move(pending));
  }

  Pending& main() { return nodes[main_index]; }

  [[noreturn]] void fail(const std::string& message) const { throw Error(describe_node(source) + ": " + message); }
  void require(bool condition, const std::string& message) const {
    if (!condition) fail(message);
  }
  /// require() whose message is built only on failure.
  template <class MakeMessage>
  requires std::is_invocable_r_v<std::string, MakeMessage>
  void require(bool condition, MakeMessage&& make_message) const {
    if (!condition) fail(make_message());
  }

  /// Removes attribute `key` from the main node and returns it as T (nullopt when unset).
  template <class T> std::optional<T> take(const std::string& key) {
    const Attribute* value = main().attrs.find(key);
    if (value == nullptr) return std::nullopt;
    const T* typed = std::get_if<T>(value);
    require(typed != nullptr,
            [&] { return "attribute '" + key + "' is a " + name(type_of(*value)) + ", not the kind ONNX defines"; });
    T result = *typed;
    main().attrs.erase(key);
    return result;
  }

  /// Sets input `index` of the main node, leaving skipped optional inputs absent ("").
  void set_input(std::size_t index, std::string value) {
    std::vector<std::string>& inputs = main().inputs;
    if (inputs.size() <= index) inputs.resize(index + 1);
    inputs[index] = std::move(value);
  }
  std::string input(std::size_t index) { return index < main().inputs.size() ? main().inputs[index] : std::string(); }

  /// A name no value or node has yet, made from this node's name (or first output).
  std::string fresh(const std::string& suffix) const {
    const std::string base = source.name().empty() ? source.output(0) : source.name();
    return ctx.graph.unique_name(base + "/" + suffix);
  }
  /// Adds a graph constant holding `data` and returns its name.
  std::string constant(const std::string& suffix, Tensor data) {
    const std::string name = fresh(suffix);
    ctx.graph.add_constant(name, std::move(data));
    return name;
  }
  /// The element type of input `index` as ONNX inferred it, float32 when unknown (the
  /// attribute forms normalised here exist for float inputs only).
  DataType input_dtype(std::size_t index) const {
    const ValueFact fact = ctx.facts.find(source.input(static_cast<int>(index)));
    return fact.dtype.value_or(DataType::Float32);
  }

  const onnx::NodeProto& source;
  NodeImport& ctx;
  std::vector<Pending> nodes;
  std::size_t main_index = 0;
};

Tensor scalar(DataType type, double value) {
  Tensor tensor(Shape{}, type);
  convert(&value, DataType::Float64, tensor.raw(), type, 1);
  return tensor;
}

Tensor int64s(const Ints& values) {
  return Tensor::from(Shape{static_cast<std::int64_t>(values.size())}, DataType::Int64, values);
}

Tensor floats(const std::vector<double>& values) {
  std::vector<float> narrow(values.begin(), values.end());
  return Tensor::from(Shape{static_cast<std::int64_t>(values.size())}, DataType::Float32, narrow);
}

// --- the rules ------------------------------------------------------------------------

// ONNX's "to" is a TensorProto_DataType code; Tern's is a dtype name ("int8").
void cast_to_dtype_name(Expansion& x) {
  const std::optional<std::int64_t> code = x.take<std::int64_t>("to");
  if (!code) return; // the schema reports the missing attribute
  const std::optional<DataType> type = onnx_io::from_onnx_type(static_cast<std::int32_t>(*code));
  x.require(type.has_value(), [&] {
    return "casts to ONNX type " + onnx_io::onnx_type_name(static_cast<std::int32_t>(*code)) +
           ", which Tern does not support";
  });
  x.main().attrs.set("to", std::string(name(*type)));
}

// Clip < 11: min/max attributes; since 11 they are optional scalar inputs of X's type.
void clip_bounds_to_inputs(Expansion& x) {
  const DataType type = x.input_dtype(0);
  if (const auto min = x.take<double>("min")) x.set_input(1, x.constant("min", scalar(type, *min)));
  if (const auto max = x.take<double>("max")) x.set_input(2, x.constant("max", scalar(type, *max)));
}

// Pad < 11: pads and value attributes; since 11, inputs (value only matters when non-zero).
void pad_attributes_to_inputs(Expansion& x) {
  const auto pads = x.take<Ints>("pads");
  x.require(pads.has_value(),
            [&] { return "has no 'pads' attribute, which opset " + std::to_string(x.ctx.opset) + " Pad requires"; });
  x.set_input(1, x.constant("pads", int64s(*pads)));
  if (const auto value = x.take<double>("value"); value && *value != 0.0)
    x.set_input(2, x.constant("value", scalar(x.input_dtype(0), *value)));
}

// Slice < 10: starts/ends/axes attributes; since 10, int64 inputs.
void slice_attributes_to_inputs(Expansion& x) {
  const auto starts = x.take<Ints>("starts");
  const auto ends = x.take<Ints>("ends");
  x.require(starts && ends, [&] {
    return "lacks the 'starts' or 'ends' attribute opset " + std::to_string(x.ctx.opset) + " Slice requires";
  });
  x.set_input(1, x.constant("starts", int64s(*starts)));
  x.set_input(2, x.constant("ends", int64s(*ends)));
  if (const auto axes = x.take<Ints>("axes")) x.set_input(3, x.constant("axes", int64s(*axes)));
}

// Squeeze/Unsqueeze/ReduceSum < 13: axes attribute; since 13, an optional int64 input.
void axes_to_input(Expansion& x) {
  if (const auto axes = x.take<Ints>("axes")) x.set_input(1, x.constant("axes", int64s(*axes)));
}

// Dropout < 12: ratio attribute; since 12, an optional input. Inference ignores it, but the
// value is kept so an export shows what the model said.
void dropout_ratio_to_input(Expansion& x) {
  if (const auto ratio = x.take<double>("ratio")) x.set_input(1, x.constant("ratio", scalar(x.input_dtype(0), *ratio)));
}

/// The Reshape target that restores `dims` after Flatten(axis): static dims as they are, a
/// dynamic batch copied (0) from the flattened tensor when axis is 1, at most one -1.
std::optional<Ints> restore_target(Ints dims, std::int64_t axis) {
  if (axis == 1 && dims[0] < 0) dims[0] = 0;
  if (std::count_if(dims.begin(), dims.end(), [](std::int64_t d) { return d < 0; }) > 1) return std::nullopt;
  return dims;
}

// Softmax (and LogSoftmax, Hardmax) < 13 coerces its input to 2-D at `axis` (default 1)
// and normalises over everything from axis on; since 13, over `axis` alone. Same thing when
// axis is the last one; otherwise express the old meaning exactly: Flatten(axis), the op
// with axis=1, Reshape back (to a constant shape when the dims allow, else to Shape(input)).
// When ONNX's shape inference cannot tell the input's rank (PaddlePaddle's exports), the
// Shape(input) form fits any rank: Flatten takes a negative axis too, and Tern's own
// inference knows the rank when the graph is typed.
void softmax_coerced_to_2d(Expansion& x) {
  const std::int64_t axis = x.take<std::int64_t>("axis").value_or(1);
  const std::string input = x.input(0);
  const ValueFact fact = x.ctx.facts.find(input);
  std::int64_t flatten_axis = axis;
  std::optional<Ints> target; // a constant Reshape target, when the dims allow one
  if (fact.dims) {
    const Ints& dims = *fact.dims;
    const auto rank = static_cast<std::int64_t>(dims.size());
    const std::int64_t a = axis < 0 ? axis + rank : axis;
    x.require(a >= 0 && a < rank, [&] {
      return "attribute 'axis' " + std::to_string(axis) + " is outside the input's rank " + std::to_string(rank);
    });
    if (a == rank - 1) {
      x.main().attrs.set("axis", a);
      return;
    }
    flatten_axis = a;
    target = restore_target(dims, a);
  }
  const std::string output = x.main().outputs.at(0);
  const std::string flat = x.fresh("flattened");
  const std::string normalised = x.fresh("softmax_2d");
  Pending softmax = x.main();
  softmax.inputs = {flat};
  softmax.outputs[0] = normalised;
  softmax.attrs.set("axis", std::int64_t{1});

  std::vector<Pending> expanded;
  Attributes flatten_attrs;
  flatten_attrs.set("axis", flatten_axis);
  expanded.push_back({"Flatten", {input}, {flat}, std::move(flatten_attrs), x.fresh("Flatten")});
  expanded.push_back(std::move(softmax));
  std::string shape;
  if (target) {
    shape = x.constant("shape", int64s(*target));
  } else {
    x.require(find_schema("Shape") != nullptr, [&] {
      return "opset " + std::to_string(x.ctx.opset) + " Softmax on axis " + std::to_string(axis) +
             " needs a Reshape back to the input's shape, which is not known before running, and Tern has no Shape "
             "operator";
    });
    shape = x.fresh("input_shape");
    expanded.push_back({"Shape", {input}, {shape}, {}, x.fresh("Shape")});
  }
  expanded.push_back({"Reshape", {normalised, shape}, {output}, {}, x.fresh("Reshape")});
  x.nodes = std::move(expanded);
  x.main_index = 1;
}

// Upsample and Resize-10 compute source coordinates as output / scale and take the lower
// neighbour: Resize-13's "asymmetric" coordinates with nearest_mode "floor".
void resize_like_upsample(Expansion& x) {
  Attributes& attrs = x.main().attrs;
  const std::string mode = attrs.get_or<std::string>("mode", "nearest");
  // Opset 7's Upsample also knew "bilinear", which is Resize's "linear".
  if (mode == "bilinear") attrs.set("mode", std::string("linear"));
  attrs.set("coordinate_transformation_mode", std::string("asymmetric"));
  if (mode == "nearest") attrs.set("nearest_mode", std::string("floor"));
}

// Upsample (7-9): scales as an attribute (7, 8) or input 1 (9) -> Resize(X, "", scales).
void upsample_to_resize(Expansion& x) {
  std::string scales = x.input(1);
  if (const auto values = x.take<std::vector<double>>("scales")) scales = x.constant("scales", floats(*values));
  x.require(!scales.empty(), "has no scales (neither the attribute nor the input)");
  x.main().inputs = {x.input(0), "", scales};
  resize_like_upsample(x);
}

// Resize-10: (X, scales) -> Resize(X, "", scales).
void resize10_to_resize13(Expansion& x) {
  x.main().inputs = {x.input(0), "", x.input(1)};
  resize_like_upsample(x);
}

// Resize 11-12 require roi and scales inputs and pass empty tensors for the unused ones;
// since 13 they are left out. roi means nothing unless the mode is tf_crop_and_resize.
void resize_drop_unused_inputs(Expansion& x) {
  const auto is_empty_constant = [&](const std::string& name) {
    const Value* value = name.empty() ? nullptr : x.ctx.graph.find_value(name);
    return value != nullptr && value->constant() != nullptr && value->constant()->numel() == 0;
  };
  const std::string mode = x.main().attrs.get_or<std::string>("coordinate_transformation_mode", "half_pixel");
  if (mode != "tf_crop_and_resize" || is_empty_constant(x.input(1))) x.set_input(1, "");
  if (is_empty_constant(x.input(2))) x.set_input(2, "");
}

/// One normalisation: applies to `op_type` nodes of models whose opset is below `before`.
struct Rule {
  const char* op_type;
  std::int64_t before;
  void (*apply)(Expansion&);
};

constexpr std::int64_t every_opset = std::numeric_limits<std::int64_t>::max();

// The table, in the order rules run (a node may match several).
constexpr Rule rules[] = {
    {"Cast", every_opset, cast_to_dtype_name},
    {"Clip", 11, clip_bounds_to_inputs},
    {"Dropout", 12, dropout_ratio_to_input},
    {"Hardmax", 13, softmax_coerced_to_2d},
    {"LogSoftmax", 13, softmax_coerced_to_2d},
    {"Pad", 11, pad_attributes_to_inputs},
    {"ReduceSum", 13, axes_to_input},
    {"Resize", 11, resize10_to_resize13},
    {"Resize", every_opset, resize_drop_unused_inputs},
    {"Slice", 10, slice_attributes_to_inputs},
    {"Softmax", 13, softmax_coerced_to_2d},
    {"Squeeze", 13, axes_to_input},
    {"Unsqueeze", 13, axes_to_input},
    {"Upsample", every_opset, upsample_to_resize},
};

/// Attributes Tern's schema does not model may be dropped only at their ONNX default
/// (BatchNormalization-7's spatial=1, ...): otherwise the model means something Tern
/// cannot represent. Defaults come from ONNX's own schema for the node's opset.
void drop_default_attributes(Expansion& x) {
  Pending& node = x.main();
  const OpSchema* tern_schema = find_schema(node.op_type);
  if (tern_schema == nullptr) return; // refused earlier, with the other unsupported ops
  const bool renamed = node.op_type != x.source.op_type();
  // A renamed node now has its new op's opset-13 form.
  const onnx::OpSchema* onnx_schema = onnx::OpSchemaRegistry::Schema(
      node.op_type, renamed ? std::max<int>(13, static_cast<int>(x.ctx.opset)) : static_cast<int>(x.ctx.opset));
  std::vector<std::string> unmodelled;
  for (const auto& [key, value] : node.attrs.all())
    if (tern_schema->attribute(key) == nullptr) unmodelled.push_back(key);
  for (const std::string& key : unmodelled) {
    if (onnx_schema == nullptr) continue;
    const auto spec = onnx_schema->attributes().find(key);
    if (spec == onnx_schema->attributes().end() || spec->second.default_value.type() == onnx::AttributeProto::UNDEFINED)
      continue; // no default to compare with: the schema check names the attribute
    const Attribute fallback = attribute_from_proto(spec->second.default_value, describe_node(x.source));
    const Attribute& value = *node.attrs.find(key);
    x.require(same_attribute(value, fallback), [&] {
      return "attribute '" + key + "' is " + to_string(value) +
             "; Tern does not model it and accepts only its ONNX default " + to_string(fallback);
    });
    node.attrs.erase(key);
  }
}

/// Constant nodes become graph constants: Tern needs no node to hold data.
void import_constant(const onnx::NodeProto& node, Graph& graph) {
  const std::string what = describe_node(node);
  check(node.attribute_size() == 1 && node.output_size() == 1,
        [&] { return what + ": a Constant needs exactly one attribute and one output"; });
  const onnx::AttributeProto& attribute = node.attribute(0);
  const Attribute value = attribute_from_proto(attribute, what);
  const std::string& key = attribute.name();
  Tensor data;
  if (key == "value")
    data = std::get<Tensor>(value);
  else if (key == "value_float")
    data = scalar(DataType::Float32, std::get<double>(value));
  else if (key == "value_floats")
    data = floats(std::get<std::vector<double>>(value));
  else if (key == "value_int")
    data = scalar(DataType::Int64, static_cast<double>(std::get<std::int64_t>(value)));
  else if (key == "value_ints")
    data = int64s(std::get<Ints>(value));
  else
    throw Error(what + ": a Constant's '" + key + "' has no Tern equivalent");
  graph.add_constant(node.output(0), std::move(data));
}

void add(Graph& graph, Pending node) {
  // ONNX marks absent optional inputs and outputs with ""; trailing ones simply end the list.
  while (!node.inputs.empty() && node.inputs.back().empty()) node.inputs.pop_back();
  while (!node.outputs.empty() && node.outputs.back().empty()) node.outputs.pop_back();
  for (std::string& output : node.outputs)
    if (output.empty()) output = graph.unique_name(node.name + "/unused_output");
  // ONNX node names are optional and need not be unique; Tern's must be.
  if (!node.name.empty() && graph.find_node(node.name) != nullptr) node.name = graph.unique_name(node.name);
  graph.add_node(node.op_type, node.inputs, node.outputs, std::move(node.attrs), node.name);
}

} // namespace

bool is_supported(const std::string& onnx_op_type) {
  return onnx_op_type == "Constant" || find_schema(tern_op_type(onnx_op_type)) != nullptr;
}

void import_node(const onnx::NodeProto& node, NodeImport& ctx) {
  if (node.op_type() == "Constant") return import_constant(node, ctx.graph);
  // PyTorch deduplicates equal initializers (random-init networks have many) and feeds the
  // second reader through Identity(initializer). That output is a constant too: as one, the
  // Conv reads its weights directly, as fold_batchnorm and the PTQ expect of every weight.
  // A copy, so that a pass rewriting one reader's weights leaves the other's alone.
  if (node.op_type() == "Identity" && node.input_size() == 1 && node.output_size() == 1)
    if (const Value* source = ctx.graph.find_value(node.input(0)); source != nullptr && source->constant() != nullptr) {
      ctx.graph.add_constant(node.output(0), source->constant()->clone());
      return;
    }
  Expansion expansion(node, ctx);
  for (const Rule& rule : rules)
    if (node.op_type() == rule.op_type && ctx.opset < rule.before) rule.apply(expansion);
  drop_default_attributes(expansion);
  for (Pending& pending : expansion.nodes) add(ctx.graph, std::move(pending));
}

} // namespace tern::onnx_plugin
