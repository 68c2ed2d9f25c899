#include <tern/checked_math.hpp>
#include <tern/model_stats.hpp>
#include <tern/registry.hpp>

#include <algorithm>
#include <span>

namespace tern {
namespace {

/// Element count of `dims` with dynamic dimensions taken as 1 (one sample); overflow is an
/// error naming `where()`, never a wrapped count.
template <class Where> std::int64_t per_sample(std::span<const std::int64_t> dims, const Where& where) {
  std::int64_t count = 1;
  for (const std::int64_t d : dims) count = checked_mul(count, d == Shape::dynamic ? 1 : d, where);
  return count;
}

} // namespace

std::int64_t node_macs(const Node& node) {
  const auto where = [&] { return node.describe() + ": its multiply-accumulate count"; };
  const std::int64_t outputs = per_sample(node.output()->shape().dims(), where);
  if (node.op_type() == "Conv") {
    // W is [Cout, Cin/group, k...]: one output sums Cin/group x k... products.
    const std::span<const std::int64_t> w = node.input(1)->shape().dims();
    return checked_mul(outputs, per_sample(w.subspan(std::min<std::size_t>(1, w.size())), where), where);
  }
  if (node.op_type() == "Gemm" || node.op_type() == "MatMul") {
    const Shape& b = node.input(1)->shape(); // the reduced dimension K is B's non-output one
    const bool trans_b = node.op_type() == "Gemm" && node.attr<std::int64_t>("transB") != 0;
    const std::int64_t k = b.rank() == 1 ? b[0] : (trans_b ? b[b.rank() - 1] : b[b.rank() - 2]);
    return checked_mul(outputs, k == Shape::dynamic ? 1 : k, where);
  }
  return 0;
}

ModelStats model_stats(const Graph& graph) {
  Graph typed = graph.clone();
  typed.infer_shapes();
  ModelStats stats;
  for (const Node* node : typed.nodes()) {
    ++stats.ops[node->op_type()];
    stats.macs =
        checked_add(stats.macs, node_macs(*node), [] { return std::string("the model's multiply-accumulates"); });
  }
  for (const Value* constant : typed.constants())
    stats.parameters = checked_add(stats.parameters, constant->constant()->numel(),
                                   [] { return std::string("the model's parameter count"); });
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
