#include "ptq_graph_facts.hpp"

#include <tern/error.hpp>
#include <tern/ptq.hpp>

namespace tern::ptq::detail {

double meta_number(const Node& node, const std::string& key) {
  return node.meta().has(key) ? std::stod(node.meta().get<std::string>(key)) : 0.0;
}

Node* sole_reader(const Graph& graph, const Value& value) {
  const std::vector<Node*> readers = graph.consumers(value);
  return readers.size() == 1 ? readers[0] : nullptr;
}

std::optional<Quantizer> quantizer_after(const Graph& graph, const Node& node, double scale) {
  Quantizer q;
  q.to_real = scale;
  const Value* value = node.output();
  Node* next = sole_reader(graph, *value);
  if (next != nullptr && next->op_type() == "Mul" && next->input(1) != nullptr && next->input(1)->constant()) {
    q.rescale = next->input(1)->constant()->to_doubles();
    value = next->output();
    if (graph.is_output(*value)) { // an output kept at accumulation precision: dequantized, not rounded
      q.end = value;
      q.to_real = 1.0;
      q.rounds = false;
      return q;
    }
    next = sole_reader(graph, *value);
  }
  if (next != nullptr && next->op_type() == "Round") {
    value = next->output();
    next = sole_reader(graph, *value);
  }
  if (next == nullptr || next->op_type() != "Clip" || next->input(1) == nullptr || !next->input(1)->constant() ||
      next->input(2) == nullptr || !next->input(2)->constant())
    return std::nullopt;
  q.lo = next->input(1)->constant()->to_doubles()[0];
  q.hi = next->input(2)->constant()->to_doubles()[0];
  q.end = next->output();
  // A network output is dequantized right after (Mul): that output is in real units.
  if (Node* dequantize = sole_reader(graph, *q.end);
      dequantize != nullptr && dequantize->op_type() == "Mul" && graph.is_output(*dequantize->output())) {
    q.end = dequantize->output();
    q.to_real = 1.0;
  }
  return q;
}

double step_of(const Graph& graph, const Value* value) {
  while (!graph.is_input(*value)) {
    const Node* producer = value->producer();
    check(producer != nullptr && producer->input(0) != nullptr,
          [&] { return "quality report: cannot tell the scale of '" + value->name() + "'"; });
    if (producer->meta().has(scale_key)) return meta_number(*producer, scale_key);
    value = producer->input(0);
  }
  return 1.0 / static_cast<double>(input_scaling(graph).scale);
}

} // namespace tern::ptq::detail
