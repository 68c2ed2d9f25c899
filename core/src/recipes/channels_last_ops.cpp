// channels_last_ops: oneDNN's int8 convolutions read and write channels last ([N, D...,
// C]) and Tern's tensors are channels first (ONNX's), so each integer Conv transposed its
// 8-bit X in and its Y out: about half of mobilenet_v2's int8 time at batch 1. Its float
// convolutions reordered X and Y to and from 8- or 16-channel blocks the same way (37 % of
// float mobilenet_v2's oneDNN time), where its nhwc kernels compute about as fast. Written
// into the graph, the transposes become Transpose nodes that cancel between one Conv and
// the next and move past the ops that run on either layout (elementwise ones, Concat, and
// the pools through their channels-last forms), so a region runs channels last from end to
// end, transposed at its edges only, and the profile shows every transpose left as a step
// of its own.
#include "recipes/running_backend.hpp"

#include <tern/channels_last.hpp>
#include <tern/error.hpp>
#include <tern/recipes.hpp>
#include <tern/registry.hpp>

#include <algorithm>
#include <limits>
#include <optional>

namespace tern {
namespace {

using Ints = std::vector<std::int64_t>;

/// An op the recipe runs channels last. Its first `data` inputs are tensors in the layout
/// (the others constants or scalars that have none); with `axis`, its axis attribute names
/// a tensor axis; `channels_last` is the op type that runs on channels-last tensors where
/// it differs (a backend must then have a kernel for it).
struct LayoutRule {
  const char* op_type;
  std::size_t data;
  bool axis;
  const char* channels_last;
};
constexpr std::size_t every_input = std::numeric_limits<std::size_t>::max();
constexpr LayoutRule layout_rules[] = {
    {"Conv", 1, false, "ConvChannelsLast"},
    {"MaxPool", 1, false, "MaxPoolChannelsLast"},
    {"GlobalAveragePool", 1, false, "GlobalAveragePoolChannelsLast"},
    {"Requantize", 1, true, nullptr},
    {"RequantizeAdd", 2, true, nullptr},
    {"Concat", every_input, true, nullptr},
    // elementwise: every input takes the same layout, so broadcasting between inputs of
    // one rank (axis by axis) stays as it was
    {"Add", every_input, false, nullptr},
    {"Sub", every_input, false, nullptr},
    {"Mul", every_input, false, nullptr},
    {"Div", every_input, false, nullptr},
    {"Relu", 1, false, nullptr},
    {"LeakyRelu", 1, false, nullptr},
    {"Clip", 1, false, nullptr},
    {"Sigmoid", 1, false, nullptr},
    {"HardSigmoid", 1, false, nullptr},
    {"HardSwish", 1, false, nullptr},
    {"Tanh", 1, false, nullptr},
    {"Cast", 1, false, nullptr},
    {"TableLookup", 1, false, nullptr},
};

const LayoutRule* rule_of(const Node& node) {
  const auto found =
      std::ranges::find_if(layout_rules, [&](const LayoutRule& rule) { return node.op_type() == rule.op_type; });
  return found == std::end(layout_rules) ? nullptr : &*found;
}

constexpr const LayoutRule& conv_rule = layout_rules[0];

bool is_8bit(DataType type) { return type == DataType::Int8 || type == DataType::UInt8; }

Attributes perm_attr(const Ints& perm) {
  Attributes attrs;
  attrs.set("perm", perm);
  return attrs;
}

bool is_transpose(const Node* node, const Ints& perm) {
  return node != nullptr && node->op_type() == "Transpose" && node->attrs().has("perm") &&
         node->attr<Ints>("perm") == perm;
}

/// How many of `node`'s inputs are tensors in the layout.
std::size_t data_count(const Node& node, const LayoutRule& rule) { return std::min(rule.data, node.inputs().size()); }

/// True when the backend of `backends` that would run `node` (the first with a kernel for
/// it) runs `rule.channels_last` on its inputs transposed.
bool runs_channels_last(const Node& node, const LayoutRule& rule, const std::vector<std::string>& backends) {
  const KernelQuery query = query_of(node);
  KernelQuery turned = query;
  for (std::size_t i = 0; i < data_count(node, rule); ++i)
    turned.input_shapes[i] = channels_last_shape(query.input_shapes[i]);
  const std::optional<std::string> runner = detail::running_backend(query, backends);
  return runner && Registry::current().choose_kernel(*runner, turned, rule.channels_last).kernel != nullptr;
}

/// `value` (of rank `rank`) channels last: the output of a Transpose of it that already
/// exists, or of a new one.
Value& channels_last_of(Graph& graph, Value& value, std::size_t rank) {
  const Ints perm = to_channels_last(rank);
  for (Node* reader : graph.consumers(value))
    if (is_transpose(reader, perm)) return *reader->output();
  const std::string name = graph.unique_name(value.name() + "_channels_last");
  return *graph.add_node("Transpose", {value.name()}, {name}, perm_attr(perm)).output();
}

/// Runs `node` channels last: its data inputs channels last (through the Transposes that
/// made them channels first where there are, new ones elsewhere), its op type and axis
/// those of the layout, a Transpose back after it. `rank` is its tensors'.
void turn(Graph& graph, Node& node, const LayoutRule& rule, std::size_t rank) {
  const Ints first = to_channels_first(rank);
  std::vector<Value*> inputs = node.inputs();
  for (std::size_t i = 0; i < data_count(node, rule); ++i) {
    Node* producer = inputs[i]->producer();
    inputs[i] = is_transpose(producer, first) ? producer->input(0) : &channels_last_of(graph, *inputs[i], rank);
  }
  Attributes attrs = node.attrs();
  if (rule.axis) { // axis a of a channels-first tensor is axis first[a] of the channels-last one
    const auto axis = node.attr<std::int64_t>("axis");
    attrs.set("axis", first[static_cast<std::size_t>(axis < 0 ? axis + static_cast<std::int64_t>(rank) : axis)]);
  }
  Node& turned =
      graph.replace_node(node, rule.channels_last ? rule.channels_last : node.op_type(), inputs, std::move(attrs));
  graph.insert_after(*turned.output(), "Transpose", perm_attr(first));
}

/// An integer (8-bit X, int8 W) or float32 Conv of rank 3 to 5: always worth turning, as
/// its kernel would transpose or reorder X and Y itself.
bool turnable_conv(const Node& node) {
  const Value* x = node.input(0);
  const Value* w = node.input(1);
  if (node.op_type() != "Conv" || x == nullptr || w == nullptr || x->shape().rank() < 3 || x->shape().rank() > 5)
    return false;
  return (is_8bit(x->dtype()) && w->dtype() == DataType::Int8) ||
         (x->dtype() == DataType::Float32 && w->dtype() == DataType::Float32);
}

/// Turns every Conv of turnable_conv() its backend runs channels last. Returns how many.
std::size_t turn_convs(Graph& graph, const std::vector<std::string>& backends) {
  // Chosen first, turned after: a turned Conv's output, the next one's X, has no type yet.
  std::vector<Node*> convs;
  for (Node* node : graph.nodes())
    if (turnable_conv(*node) && runs_channels_last(*node, conv_rule, backends)) convs.push_back(node);
  for (Node* conv : convs) turn(graph, *conv, conv_rule, conv->output()->shape().rank());
  return convs.size();
}

/// Readers of Transpose(Transpose(v)) read v where the two perms undo each other (not for a
/// graph output: it keeps its name). Returns how many Transposes it bypassed.
std::size_t cancel_transposes(Graph& graph) {
  std::size_t cancelled = 0;
  for (Node* outer : graph.nodes()) {
    const Node* inner = outer->op_type() == "Transpose" ? outer->input(0)->producer() : nullptr;
    if (inner == nullptr || inner->op_type() != "Transpose" || graph.is_output(*outer->output()) ||
        !outer->attrs().has("perm") || !inner->attrs().has("perm"))
      continue;
    const Ints first = inner->attr<Ints>("perm"), second = outer->attr<Ints>("perm");
    bool identity = first.size() == second.size();
    for (std::size_t i = 0; identity && i < second.size(); ++i)
      identity = first[static_cast<std::size_t>(second[i])] == static_cast<std::int64_t>(i);
    if (!identity) continue;
    graph.replace_uses(*outer->output(), *inner->input(0));
    ++cancelled;
  }
  return cancelled;
}

/// True when every reader of `node`'s output transposes it to channels last (a turned
/// Conv, say): turning the node then cancels that Transpose.
bool read_channels_last(const Graph& graph, const Node& node) {
  const std::vector<Node*> readers = graph.consumers(*node.output());
  const Ints last = to_channels_last(node.output()->shape().rank());
  return !readers.empty() && !graph.is_output(*node.output()) &&
         std::ranges::all_of(readers, [&](const Node* reader) { return is_transpose(reader, last); });
}

/// The rule `node` runs channels last by, when it can: one output, data inputs all of one
/// rank (3 or more), and a backend for its channels-last op type where that differs.
const LayoutRule* turnable(const Node& node, const std::vector<std::string>& backends) {
  const LayoutRule* rule = rule_of(node);
  if (rule == nullptr || node.outputs().size() != 1 || node.input(0) == nullptr) return nullptr;
  const std::size_t rank = node.input(0)->shape().rank();
  for (std::size_t i = 0; i < data_count(node, *rule); ++i)
    if (node.input(i) == nullptr || node.input(i)->shape().rank() != rank) return nullptr;
  if (rank < 3 || (rule->channels_last && !runs_channels_last(node, *rule, backends))) return nullptr;
  return rule;
}

/// True when every reader of `transposed` (a channels-first Transpose's output) can run
/// channels last and their results meet again: at most one of them has an output read
/// elsewhere, not counting pooled ones ([N, C, 1, 1] transposes for nothing). Turning them
/// all then leaves one Transpose where there was one: SiLU's x * Sigmoid(x), squeeze-
/// excitation's x * f(GlobalAveragePool(x)).
bool readers_turn_together(const Graph& graph, const Value& transposed, const std::vector<std::string>& backends) {
  const std::vector<Node*> readers = graph.consumers(transposed);
  const auto is_reader = [&](const Node* node) { return std::ranges::find(readers, node) != readers.end(); };
  std::size_t leaving = 0;
  for (const Node* reader : readers) {
    if (turnable(*reader, backends) == nullptr) return false;
    const Value& out = *reader->output();
    const Shape& shape = out.shape();
    const bool pooled = std::all_of(shape.begin() + 2, shape.end(), [](std::int64_t d) { return d == 1; });
    if (!pooled && (graph.is_output(out) || !std::ranges::all_of(graph.consumers(out), is_reader))) ++leaving;
  }
  return leaving <= 1;
}

/// Moves a channels-first Transpose below a node of layout_rules that reads it, turning the
/// node, where that removes a Transpose: the readers of the Transpose turn together
/// (readers_turn_together), or every reader of the node transposes its output back
/// (DenseNet's Concats share their inputs with later Concats). Its other data inputs, of
/// the same rank, are transposed too. Returns how many it moved.
std::size_t sink_transposes(Graph& graph, const std::vector<std::string>& backends) {
  std::size_t moved = 0;
  for (Node* node : graph.nodes()) {
    const LayoutRule* rule = turnable(*node, backends);
    if (rule == nullptr) continue;
    const std::size_t rank = node->input(0)->shape().rank();
    const Ints first = to_channels_first(rank);
    const bool feeds_channels_last = read_channels_last(graph, *node);
    bool fed = false;
    for (std::size_t i = 0; !fed && i < data_count(*node, *rule); ++i) {
      const Value* input = node->input(i);
      fed = is_transpose(input->producer(), first) && !graph.is_output(*input) &&
            (feeds_channels_last || readers_turn_together(graph, *input, backends));
    }
    if (!fed) continue;
    turn(graph, *node, *rule, rank);
    ++moved;
  }
  return moved;
}

} // namespace

std::size_t channels_last_ops(Graph& graph, const std::vector<std::string>& backends) {
  graph.infer_shapes();
  const std::size_t turned = turn_convs(graph, backends);
  if (turned == 0) return 0;
  // Each round cancels the pairs the last moves made, then moves the Transposes left; the
  // channels-first ones only ever move towards the outputs, so the rounds end.
  for (bool changed = true; changed;) {
    graph.infer_shapes();
    changed = cancel_transposes(graph) > 0;
    remove_dead_nodes(graph);
    graph.infer_shapes();
    changed = sink_transposes(graph, backends) > 0 || changed;
  }
  remove_dead_nodes(graph);
  graph.infer_shapes();
  return turned;
}

} // namespace tern
