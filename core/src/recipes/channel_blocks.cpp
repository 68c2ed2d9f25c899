// channel_blocks: oneDNN 2.6's float depthwise and 1x1 convolutions run about 1.6 times
// as fast on channels cut into blocks of 8 or 16 ([N, C/b, H, W, b], nChw8c) as on
// channels last (its nhwc kernels), which is how ONNX Runtime runs MobileNets, and so do
// its convolutions over few input channels; its 3x3 convolutions over many channels run
// as fast or faster channels last (brgconv). So a channels-last region (channels_last_ops)
// whose convolution work is mostly of the first kinds moves into blocks as a whole: its
// ops become their blocked forms, its edges (the Transposes of channels_last_ops) reorder
// to and from blocks, and the region's first Conv reads a channels-first image as it is.
// Channels that do not fill whole blocks (MobileNetV2's 24 and 144 blocks of 16) take
// padded blocks where the backend declines whole blocks of 8 (AVX-512 at full width), as
// ONNX Runtime pads them. The padding starts zero (the reorders and convolutions write it
// so) and stays finite through the elementwise ops, so the next convolution, whose weights
// are zero there, ignores it. The figures are in the README (scripts/bench_matrix.py).
#include "recipes/running_backend.hpp"

#include <tern/channels_last.hpp>
#include <tern/recipes.hpp>
#include <tern/registry.hpp>

#include <algorithm>
#include <array>
#include <set>

namespace tern {
namespace {

using Ints = std::vector<std::int64_t>;

/// The ops of a channels-last region that have a blocked form: their X (and a Conv's
/// residual Z) are in the layout.
constexpr std::array<std::pair<std::string_view, const char*>, 3> blocked_forms{{
    {"ConvChannelsLast", "ConvBlocked"},
    {"MaxPoolChannelsLast", "MaxPoolBlocked"},
    {"GlobalAveragePoolChannelsLast", "GlobalAveragePoolBlocked"},
}};
/// Ops that compute the same on blocks, each output element from the input elements at its
/// index: broadcasting between inputs of one rank stays right when every input's channels
/// fill whole blocks. Concat too, its axis renumbered.
constexpr std::array<std::string_view, 12> same_on_blocks{
    "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Concat"};

const char* blocked_form(const Node& node) {
  for (const auto& [channels_last, blocked] : blocked_forms)
    if (node.op_type() == channels_last) return blocked;
  return nullptr;
}

/// True when `node` runs on blocks: in its blocked form, or as it is.
bool runs_on_blocks(const Node& node) {
  return blocked_form(node) != nullptr || std::ranges::find(same_on_blocks, node.op_type()) != same_on_blocks.end();
}

enum class Direction { ToChannelsLast, ToChannelsFirst };

/// True when `node` is a Transpose of a rank-3 to 5 tensor to channels last or back.
bool transposes(const Node* node, Direction direction) {
  if (node == nullptr || node->op_type() != "Transpose" || !node->attrs().has("perm")) return false;
  const auto perm = node->attr<Ints>("perm");
  if (perm.size() < 3 || perm.size() > 5) return false;
  return perm ==
         (direction == Direction::ToChannelsLast ? to_channels_last(perm.size()) : to_channels_first(perm.size()));
}

/// A connected channels-last region: its ops, the Transposes into it and out of it.
struct Region {
  std::vector<Node*> ops, entries, exits;
  bool valid = true;
};

/// The region that `entry` (a Transpose to channels last) opens: every node reached from
/// it through channels-last values, both ways. Invalid where such a value is a graph
/// output or has a producer or reader that is neither in the layout nor one of its edges.
Region region_from(const Graph& graph, Node& entry, std::set<const Node*>& seen) {
  Region region;
  std::vector<Node*> pending{&entry};
  const auto layout_inputs = [](const Node& node) {
    std::vector<Value*> inputs;
    const std::size_t rank = node.output()->shape().rank();
    for (std::size_t i = 0; i < node.inputs().size(); ++i) {
      Value* input = node.input(i);
      const bool in_layout = blocked_form(node) ? i == 0 || i == 3 : input != nullptr && input->shape().rank() == rank;
      if (input != nullptr && in_layout) inputs.push_back(input);
    }
    return inputs;
  };
  while (!pending.empty()) {
    Node* node = pending.back();
    pending.pop_back();
    if (!seen.insert(node).second) continue;
    if (transposes(node, Direction::ToChannelsFirst)) {
      region.exits.push_back(node);
      continue; // its output is channels first
    }
    if (transposes(node, Direction::ToChannelsLast)) {
      region.entries.push_back(node);
    } else {
      region.ops.push_back(node);
      for (Value* input : layout_inputs(*node)) {
        Node* producer = input->producer();
        const bool known =
            producer != nullptr && (transposes(producer, Direction::ToChannelsLast) || runs_on_blocks(*producer));
        if (known) pending.push_back(producer);
        region.valid = region.valid && known;
      }
    }
    const Value& out = *node->output();
    region.valid = region.valid && node->outputs().size() == 1 && !graph.is_output(out);
    for (Node* reader : graph.consumers(out)) {
      const bool known = transposes(reader, Direction::ToChannelsFirst) || runs_on_blocks(*reader);
      if (known) pending.push_back(reader);
      region.valid = region.valid && known;
    }
  }
  return region;
}

std::int64_t channels(const Value& channels_last) { return channels_last.shape().dims().back(); }

/// True when every reader of `entry`'s output is a ConvChannelsLast.
bool read_by_convs(const Graph& graph, const Node& entry) {
  return std::ranges::all_of(graph.consumers(*entry.output()),
                             [](const Node* reader) { return reader->op_type() == "ConvChannelsLast"; });
}

/// True when every value of the region is float32 with its channels static and in whole
/// blocks of `block`, or (`padded`) in blocks whose last is padded: the ops' outputs and the
/// entries' outputs, except an entry whose readers are all Convs (an image: they read it
/// channels first). Padding needs more: no Div (0 / 0 would put a NaN in it, which zero
/// weights do not cancel), no op broadcasting over the channels (a value's one channel is
/// not repeated across a block) and Concats of whole blocks only.
bool fills_blocks(const Graph& graph, const Region& region, std::int64_t block, bool padded) {
  const auto fits = [&](const Value& value) {
    return value.dtype() == DataType::Float32 && value.shape().rank() >= 3 && value.shape().rank() <= 5 &&
           channels(value) != Shape::dynamic && (padded || channels(value) % block == 0);
  };
  const auto pads_right = [&](const Node* op) {
    if (!padded || blocked_form(*op) != nullptr) return true;
    if (op->op_type() == "Div") return false;
    const bool concat = op->op_type() == "Concat";
    if (concat && channels(*op->output()) % block != 0) return false;
    return std::ranges::all_of(op->inputs(), [&](const Value* input) {
      if (input == nullptr || input->shape().rank() != op->output()->shape().rank()) return true;
      return concat ? channels(*input) % block == 0 : channels(*input) == channels(*op->output());
    });
  };
  return std::ranges::all_of(region.ops, [&](const Node* op) { return fits(*op->output()) && pads_right(op); }) &&
         std::ranges::all_of(region.entries,
                             [&](const Node* entry) { return fits(*entry->output()) || read_by_convs(graph, *entry); });
}

/// Multiply-adds per image of a ConvChannelsLast ([N, D..., M] output).
double macs(const Node& conv) {
  const Shape& y = conv.output()->shape();
  const Shape& w = conv.input(1)->shape();
  double count = 1;
  for (std::size_t i = 1; i < y.rank(); ++i) count *= static_cast<double>(std::max<std::int64_t>(y[i], 1));
  for (std::size_t i = 1; i < w.rank(); ++i) count *= static_cast<double>(std::max<std::int64_t>(w[i], 1));
  return count;
}

/// True when the convolutions that run faster on blocks of `block` channels than channels
/// last do at least half of the region's multiply-adds: depthwise and 1x1 ones; with
/// blocks of 16 (AVX-512's width) also those reading fewer than 64 channels (a first
/// layer's image, a small network's 3x3s), for which oneDNN's nhwc brgconv, reducing over
/// the input channels, has too few to fill its vectors. Measured on an AVX-512 CPU, batch
/// 64: the ConvNets' 1- and 32-channel 3x3s 0.75 -> 0.30 and 2.8 -> 2.5 ms on blocks of
/// 16; ResNet-18's 64- to 512-channel 3x3s as fast channels last at batch 64 and faster at
/// batch 1; resnet_tiny's 48-channel 3x3s on blocks of 8 1.04 -> 1.39 ms.
bool mostly_faster_on_blocks(const Region& region, std::int64_t block) {
  double faster = 0, total = 0;
  for (const Node* op : region.ops) {
    if (op->op_type() != "ConvChannelsLast") continue;
    const Shape& w = op->input(1)->shape();
    const auto group = op->attr<std::int64_t>("group");
    const bool pointwise = std::all_of(w.begin() + 2, w.end(), [](std::int64_t k) { return k == 1; });
    const bool depthwise = w[1] == 1 && group > 1;
    const bool narrow = block == 16 && w[1] * group < 64;
    const double work = macs(*op);
    total += work;
    if (pointwise || depthwise || narrow) faster += work;
  }
  return total > 0 && 2 * faster >= total;
}

/// The channels-first image an entry transposes, where its channels do not fill blocks of
/// `block` and its readers are all Convs (which then read it as it is); nullptr elsewhere.
Value* image_of(const Graph& graph, const Node* entry, std::int64_t block) {
  const bool image = transposes(entry, Direction::ToChannelsLast) && entry->input(0)->shape()[1] % block != 0 &&
                     read_by_convs(graph, *entry);
  return image ? entry->input(0) : nullptr;
}

/// True when the backend that runs each of the region's ops runs its blocked form, the
/// Convs on blocks of `block` (an image Conv asked about blocks too: its X is not).
bool runs_blocked(const Graph& graph, const Region& region, std::int64_t block,
                  const std::vector<std::string>& backends) {
  return std::ranges::all_of(region.ops, [&](const Node* op) {
    const char* blocked = blocked_form(*op);
    if (blocked == nullptr) return true;
    const KernelQuery asked = query_of(*op);
    KernelQuery query = asked;
    const auto to_blocks = [&](Shape& shape) {
      if (shape.rank() >= 3) shape = channel_blocks_shape(channels_first_shape(shape), block);
    };
    if (image_of(graph, op->input(0)->producer(), block) != nullptr)
      query.input_shapes[0] = channels_first_shape(query.input_shapes[0]);
    else
      to_blocks(query.input_shapes[0]);
    if (query.input_shapes.size() > 3) to_blocks(query.input_shapes[3]);
    const std::optional<std::string> runner = detail::running_backend(asked, backends);
    return runner && Registry::current().choose_kernel(*runner, query, blocked).kernel != nullptr;
  });
}

/// Rewrites the region on blocks of `block`.
void move_to_blocks(Graph& graph, const Region& region, std::int64_t block) {
  for (Node* op : region.ops) {
    Attributes attrs = op->attrs();
    std::vector<Value*> inputs = op->inputs();
    if (op->op_type() == "ConvChannelsLast") {
      attrs.set("block", block);
      if (Value* image = image_of(graph, inputs[0]->producer(), block)) inputs[0] = image;
    }
    if (op->op_type() == "Concat") { // channels-last axis a: channels -> 1, spatial a -> a + 1
      const auto rank = static_cast<std::int64_t>(op->output()->shape().rank());
      const auto axis = op->attr<std::int64_t>("axis");
      const std::int64_t a = axis < 0 ? axis + rank : axis;
      attrs.set("axis", a == 0 ? 0 : a == rank - 1 ? 1 : a + 1);
    }
    const char* blocked = blocked_form(*op);
    graph.replace_node(*op, blocked ? blocked : op->op_type(), inputs, std::move(attrs));
  }
  Attributes block_attr;
  block_attr.set("block", block);
  for (Node* entry : region.entries) // an image's entry is left unread, removed after
    if (image_of(graph, entry, block) == nullptr)
      graph.replace_node(*entry, "ToChannelBlocks", {entry->input(0)}, block_attr);
  for (Node* exit : region.exits) { // its channels, where the last block is padded
    Attributes channels_attr;
    channels_attr.set("channels", channels(*exit->input(0)));
    graph.replace_node(*exit, "FromChannelBlocks", {exit->input(0)}, std::move(channels_attr));
  }
}

} // namespace

std::size_t channel_blocks(Graph& graph, const std::vector<std::string>& backends) {
  graph.infer_shapes();
  std::set<const Node*> seen;
  std::vector<Region> regions;
  for (Node* node : graph.nodes())
    if (!seen.contains(node) && transposes(node, Direction::ToChannelsLast))
      regions.push_back(region_from(graph, *node, seen));
  std::size_t moved = 0;
  for (const Region& region : regions) {
    if (!region.valid) continue;
    // Whole blocks of 16, of 8, then padded blocks of 16, of 8: the first the region fills
    // and the backend runs decides.
    constexpr std::array<std::pair<std::int64_t, bool>, 4> choices{{{16, false}, {8, false}, {16, true}, {8, true}}};
    for (const auto& [block, padded] : choices) {
      if (!fills_blocks(graph, region, block, padded) || !runs_blocked(graph, region, block, backends)) continue;
      if (mostly_faster_on_blocks(region, block)) {
        move_to_blocks(graph, region, block);
        ++moved;
      }
      break;
    }
  }
  remove_dead_nodes(graph);
  graph.infer_shapes();
  return moved;
}

} // namespace tern
