// unsigned_activations: VNNI multiplies unsigned bytes by signed ones, so oneDNN runs an
// int8 convolution of int8 activations by shifting them to uint8 and correcting the sums,
// and picks slower kernels for it (standalone oneDNN 2.6, AVX-512 VNNI, batch 64, one thread: a 3x3
// depthwise over 56x56x144 11.5 ms on jit_int8 against 7.7 ms on brdgmm_dw with uint8
// activations; a 1x1 144 -> 24 7.7 against 3.9 ms). The PTQ keeps every activation signed
// unless asked (--optimize-signs; the seed's tutorial does not ask), yet the values after a
// ReLU or ReLU6 lie in [0, 127]: the same bytes read as uint8. So the requantizations
// clamping at 0 or above write uint8 instead, where every op the change reaches reads
// values, not bytes, runs as before on the same backend, and no graph output changes.
#include "recipes/running_backend.hpp"

#include <tern/error.hpp>
#include <tern/recipes.hpp>
#include <tern/registry.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <optional>

namespace tern {
namespace {

/// The attributes of a requantization's lower bound and target dtype on `node`: Requantize
/// and RequantizeAdd name them lo and to, an affine op with one fused requantize_lo and
/// requantize_to; nullopt for other nodes.
std::optional<std::pair<const char*, const char*>> requantization_attrs(const Node& node) {
  if (node.op_type() == "Requantize" || node.op_type() == "RequantizeAdd") return std::pair{"lo", "to"};
  if (node.attrs().has("requantize_to")) return std::pair{"requantize_lo", "requantize_to"};
  return std::nullopt;
}

/// Ops whose results depend on their 8-bit inputs' values only, not on how the bytes read:
/// an int8 in [0, 127] and the uint8 of the same byte give them the same results.
constexpr std::array<std::string_view, 17> value_readers{"Conv",
                                                         "ConvChannelsLast",
                                                         "Gemm",
                                                         "MatMul",
                                                         "Requantize",
                                                         "RequantizeAdd",
                                                         "MaxPool",
                                                         "MaxPoolChannelsLast",
                                                         "Relu",
                                                         "Concat",
                                                         "Reshape",
                                                         "Flatten",
                                                         "Transpose",
                                                         "Squeeze",
                                                         "Unsqueeze",
                                                         "Identity",
                                                         "DequantizeLinear"};

bool reads_values(const Node& node) { return std::ranges::find(value_readers, node.op_type()) != value_readers.end(); }

/// Every node output's dtype, to see which ones a retyping changed.
std::map<const Value*, DataType> dtypes_of(const Graph& graph) {
  std::map<const Value*, DataType> dtypes;
  for (const Node* node : graph.nodes())
    for (const Value* value : node->outputs()) dtypes[value] = value->dtype();
  return dtypes;
}

/// True when the retyping that turned `before` into the graph's present dtypes keeps every
/// graph output's dtype and each reader of a changed value reads values and runs on the
/// backend that ran it before (`runners`, taken before the change).
bool keeps_results(const Graph& graph, const std::map<const Value*, DataType>& before,
                   const std::map<const Node*, std::optional<std::string>>& runners,
                   const std::vector<std::string>& backends) {
  for (const auto& [value, dtype] : before) {
    if (value->dtype() == dtype) continue;
    if (graph.is_output(*value)) return false;
    for (const Node* reader : graph.consumers(*value)) {
      const std::optional<std::string> runner = detail::running_backend(query_of(*reader), backends);
      if (!reads_values(*reader) || !runner || runner != runners.at(reader)) return false;
    }
  }
  return true;
}

} // namespace

std::size_t unsigned_activations(Graph& graph, const std::vector<std::string>& backends) {
  std::vector<Node*> candidates; // the int8 requantizations clamping at 0 or above
  for (Node* node : graph.nodes()) {
    const auto attrs = requantization_attrs(*node);
    if (attrs && node->attr<std::string>(attrs->second) == "int8" && node->attr<std::int64_t>(attrs->first) >= 0)
      candidates.push_back(node);
  }
  if (candidates.empty()) return 0; // a float graph: no kernel queries
  graph.infer_shapes();
  std::map<const Node*, std::optional<std::string>> runners;
  for (const Node* node : graph.nodes()) runners[node] = detail::running_backend(query_of(*node), backends);
  std::size_t retyped = 0;
  for (Node* node : candidates) {
    const auto attrs = requantization_attrs(*node);
    const std::map<const Value*, DataType> before = dtypes_of(graph);
    node->attrs().set(attrs->second, std::string("uint8"));
    bool kept = false;
    try {
      graph.infer_shapes();
      kept = keeps_results(graph, before, runners, backends);
    } catch (const Error&) { // an op that wants its inputs alike (Concat with a signed one)
    }
    if (kept) {
      ++retyped;
      continue;
    }
    node->attrs().set(attrs->second, std::string("int8"));
    graph.infer_shapes();
  }
  return retyped;
}

} // namespace tern
