#include <tern/model_stats.hpp>
#include <tern/registry.hpp>

namespace tern {
namespace {

/// Element count of `shape` with dynamic dimensions taken as 1 (one sample).
std::int64_t per_sample(const Shape& shape) {
  std::int64_t count = 1;
  for (std::int64_t d : shape) count *= d == Shape::dynamic ? 1 : d;
  return count;
}

std::int64_t node_macs(const Node& node) {
  const std::int64_t outputs = per_sample(node.output()->shape());
  if (node.op_type() == "Conv") {
    const Shape& w = node.input(1)->shape(); // [Cout, Cin/group, k...]: one output sums Cin/group*k... products
    return outputs * per_sample(w) / w[0];
  }
  if (node.op_type() == "Gemm" || node.op_type() == "MatMul") {
    const Shape& b = node.input(1)->shape(); // the reduced dimension K is B's non-output one
    const bool trans_b = node.op_type() == "Gemm" && node.attr<std::int64_t>("transB") != 0;
    const std::int64_t k = b.rank() == 1 ? b[0] : (trans_b ? b[b.rank() - 1] : b[b.rank() - 2]);
    return outputs * k;
  }
  return 0;
}

} // namespace

ModelStats model_stats(const Graph& graph) {
  Graph typed = graph.clone();
  typed.infer_shapes();
  ModelStats stats;
  for (const Node* node : typed.nodes()) {
    ++stats.ops[node->op_type()];
    stats.macs += node_macs(*node);
  }
  for (const Value* constant : typed.constants()) stats.parameters += constant->constant()->numel();
  return stats;
}

std::string missing_kernel(const Node& node, const std::string& backend_name) {
  return Registry::current().choose_kernel(backend_name, query_of(node)).reason;
}

std::vector<Unsupported> unsupported_nodes(const Graph& graph, const std::string& backend_name) {
  const std::string canonical = backend(backend_name).name();
  Graph typed = graph.clone();
  typed.infer_shapes();
  std::vector<Unsupported> missing;
  for (const Node* node : typed.topological_order())
    if (std::string reason = missing_kernel(*node, canonical); !reason.empty())
      missing.push_back({node->name(), node->op_type(), std::move(reason)});
  return missing;
}

} // namespace tern
