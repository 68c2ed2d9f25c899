// fuse_requantize: an integer Conv/Gemm/MatMul whose int32 accumulation only a Requantize
// reads becomes one node carrying the requantization in attributes (integer_affine.hpp),
// so the backend writes 8-bit results straight from its accumulators: no int32 tensor in
// memory and no extra pass over it.
#include <tern/recipes.hpp>

namespace tern {
namespace {

/// True when `requantize`'s per-channel axis is the one the fused form uses: Conv's output
/// channels (dimension 1), Gemm's and MatMul's last dimension. A single scale fits any.
bool channel_axis_matches(const Node& producer, const Node& requantize, std::size_t rank) {
  if (requantize.attr<std::vector<double>>("scale").size() == 1) return true;
  const auto axis = requantize.attr<std::int64_t>("axis");
  const auto resolved = axis < 0 ? axis + static_cast<std::int64_t>(rank) : axis;
  const auto wanted = producer.op_type() == "Conv" ? 1 : static_cast<std::int64_t>(rank) - 1;
  return resolved == wanted;
}

/// The integer Conv/Gemm/MatMul whose output only `requantize` reads, or nullptr.
Node* fusable_producer(const Graph& graph, const Node& requantize) {
  Value* accumulation = requantize.input(0);
  Node* producer = accumulation == nullptr ? nullptr : accumulation->producer();
  if (producer == nullptr) return nullptr;
  const std::string& type = producer->op_type();
  if (type != "Conv" && type != "Gemm" && type != "MatMul") return nullptr;
  if (accumulation->dtype() != DataType::Int32 || producer->attrs().has("requantize_scale")) return nullptr;
  if (graph.is_output(*accumulation) || graph.consumers(*accumulation).size() != 1) return nullptr;
  if (!channel_axis_matches(*producer, requantize, accumulation->shape().rank())) return nullptr;
  return producer;
}

} // namespace

std::size_t fuse_requantize(Graph& graph) {
  // Whether an accumulation is integer is a matter of inferred dtypes.
  graph.infer_shapes();
  std::size_t fused = 0;
  for (Node* requantize : graph.nodes()) {
    if (requantize->op_type() != "Requantize") continue;
    Node* producer = fusable_producer(graph, *requantize);
    if (producer == nullptr) continue;
    producer->attrs().set("requantize_scale", requantize->attr<std::vector<double>>("scale"));
    producer->attrs().set("requantize_lo", requantize->attr<std::int64_t>("lo"));
    producer->attrs().set("requantize_hi", requantize->attr<std::int64_t>("hi"));
    producer->attrs().set("requantize_to", requantize->attr<std::string>("to"));
    // Readers of the Requantize (and a graph output's name) move to the producer's output.
    graph.bypass_node(*requantize);
    ++fused;
  }
  if (fused > 0) graph.infer_shapes(); // the producers' outputs changed dtype
  return fused;
}

} // namespace tern
