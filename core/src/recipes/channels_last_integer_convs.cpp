// channels_last_integer_convs: oneDNN's int8 convolutions read and write channels last
// ([N, D..., C]) and Tern's tensors are channels first (ONNX's), so each integer Conv
// transposed its 8-bit X in and its Y out: about half of mobilenet_v2's int8 time at batch
// 1. Written into the graph, the transposes become Transpose nodes that cancel between one
// Conv and the next and move past the ops that do not care about layout (the elementwise
// ones), so an integer region runs channels last from end to end, transposed at its edges
// only, and the profile shows every transpose left as a step of its own.
#include <tern/channels_last.hpp>
#include <tern/error.hpp>
#include <tern/recipes.hpp>
#include <tern/registry.hpp>

#include <algorithm>

namespace tern {
namespace {

using Ints = std::vector<std::int64_t>;

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

/// An integer Conv (8-bit X, int8 W) of rank 3 to 5.
bool integer_conv(const Node& node) {
  const Value* x = node.input(0);
  const Value* w = node.input(1);
  return node.op_type() == "Conv" && x != nullptr && w != nullptr && is_8bit(x->dtype()) &&
         w->dtype() == DataType::Int8 && x->shape().rank() >= 3 && x->shape().rank() <= 5;
}

/// The backend of `backends` that would run `conv`: the first that has a kernel for it. A
/// backend whose plugin cannot load runs nothing (the scheduler will say why).
Backend* runner(const Node& conv, const std::vector<std::string>& backends) {
  const KernelQuery query = query_of(conv);
  for (const std::string& name : backends) {
    Backend* found = nullptr;
    try {
      found = &backend(name);
    } catch (const Error&) {
      continue;
    }
    if (Registry::current().choose_kernel(found->name(), query).kernel != nullptr) return found;
  }
  return nullptr;
}

/// True when the backend that would run `conv` runs it as ConvChannelsLast too.
bool runs_channels_last(const Node& conv, const std::vector<std::string>& backends) {
  const Backend* chosen = runner(conv, backends);
  if (chosen == nullptr) return false;
  KernelQuery query = query_of(conv);
  query.input_shapes[0] = permuted(query.input_shapes[0], to_channels_last(query.input_shapes[0].rank()));
  return Registry::current().choose_kernel(chosen->name(), query, "ConvChannelsLast").kernel != nullptr;
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

/// Makes each integer Conv a ConvChannelsLast between two Transposes. Returns how many.
std::size_t wrap_convs(Graph& graph, const std::vector<std::string>& backends) {
  // Chosen first, rewritten after: a rewritten Conv's output, the next one's X, has no type yet.
  std::vector<Node*> convs;
  for (Node* node : graph.nodes())
    if (integer_conv(*node) && runs_channels_last(*node, backends)) convs.push_back(node);
  for (Node* conv : convs) {
    const std::size_t rank = conv->output()->shape().rank();
    std::vector<Value*> inputs = conv->inputs();
    inputs[0] = &channels_last_of(graph, *inputs[0], rank);
    Node& replaced = graph.replace_node(*conv, "ConvChannelsLast", inputs, conv->attrs());
    graph.insert_after(*replaced.output(), "Transpose", perm_attr(to_channels_first(rank)));
  }
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

/// The ops whose result, transposed, is their result on transposed operands: the first
/// `data` inputs are the tensors (the others scalars); `axis`: the op has an axis
/// attribute (its per-channel scales'), which names a tensor axis.
struct LayoutFree {
  const char* op_type;
  std::size_t data;
  bool axis;
};
constexpr LayoutFree layout_free[] = {
    {"Requantize", 1, true}, {"RequantizeAdd", 2, true}, {"Relu", 1, false}, {"Clip", 1, false}};

const LayoutFree* layout_free_op(const Node& node) {
  const auto found =
      std::ranges::find_if(layout_free, [&](const LayoutFree& op) { return node.op_type() == op.op_type; });
  return found == std::end(layout_free) ? nullptr : &*found;
}

/// Moves a channels-first Transpose below a layout-free node that reads it (its only
/// reader): the node then runs channels last, a Transpose after it. Its other tensor inputs
/// are transposed (sharing a Transpose that already reads them). Returns how many it moved.
std::size_t sink_transposes(Graph& graph) {
  std::size_t moved = 0;
  for (Node* node : graph.nodes()) {
    const LayoutFree* op = layout_free_op(*node);
    if (op == nullptr || node->outputs().size() != 1 || node->input(0) == nullptr) continue;
    const Shape& shape = node->input(0)->shape();
    if (shape.rank() < 3) continue;
    const Ints perm = to_channels_first(shape.rank());
    bool movable = true, fed = false;
    for (std::size_t i = 0; i < op->data; ++i) {
      const Value* input = node->input(i);
      movable = movable && input != nullptr && input->shape() == shape;
      if (!movable) break;
      fed = fed ||
            (is_transpose(input->producer(), perm) && !graph.is_output(*input) && graph.consumers(*input).size() == 1);
    }
    if (!movable || !fed) continue;
    std::vector<Value*> inputs = node->inputs();
    for (std::size_t i = 0; i < op->data; ++i) {
      Node* producer = inputs[i]->producer();
      inputs[i] =
          is_transpose(producer, perm) ? producer->input(0) : &channels_last_of(graph, *inputs[i], shape.rank());
    }
    Attributes attrs = node->attrs();
    if (op->axis) { // axis a of the channels-first operand is axis perm[a] of the channels-last one
      const auto axis = node->attr<std::int64_t>("axis");
      attrs.set("axis",
                perm[static_cast<std::size_t>(axis < 0 ? axis + static_cast<std::int64_t>(shape.rank()) : axis)]);
    }
    Node& replaced = graph.replace_node(*node, node->op_type(), inputs, std::move(attrs));
    graph.insert_after(*replaced.output(), "Transpose", perm_attr(perm));
    ++moved;
  }
  return moved;
}

} // namespace

std::size_t channels_last_integer_convs(Graph& graph, const std::vector<std::string>& backends) {
  graph.infer_shapes();
  const std::size_t wrapped = wrap_convs(graph, backends);
  if (wrapped == 0) return 0;
  // Each round cancels the pairs the last moves made, then moves the Transposes left; the
  // channels-first ones only ever move towards the outputs, so the rounds end.
  for (bool changed = true; changed;) {
    graph.infer_shapes();
    changed = cancel_transposes(graph) > 0;
    remove_dead_nodes(graph);
    graph.infer_shapes();
    changed = sink_transposes(graph) > 0 || changed;
  }
  remove_dead_nodes(graph);
  graph.infer_shapes();
  return wrapped;
}

} // namespace tern
