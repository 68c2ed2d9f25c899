// Ordering, validation and shape inference over a whole graph.
#include <tern/graph.hpp>
#include <tern/operator.hpp>

#include <map>
#include <set>

namespace tern {

std::vector<Node*> Graph::topological_order() const {
  std::map<const Node*, std::size_t> pending; // producers not yet placed, per node
  std::map<const Node*, std::vector<Node*>> readers;
  for (const auto& node : nodes_) {
    std::set<const Node*> producers;
    for (const Value* input : node->inputs_)
      if (input != nullptr && input->producer() != nullptr) producers.insert(input->producer());
    pending[node.get()] = producers.size();
    for (const Node* producer : producers) readers[producer].push_back(node.get());
  }
  std::vector<Node*> order;
  order.reserve(nodes_.size());
  // Insertion order breaks ties, so the order is stable and readable.
  for (const auto& node : nodes_)
    if (pending[node.get()] == 0) order.push_back(node.get());
  for (std::size_t next = 0; next < order.size(); ++next)
    for (Node* reader : readers[order[next]])
      if (--pending[reader] == 0) order.push_back(reader);
  if (order.size() != nodes_.size()) {
    for (const auto& node : nodes_)
      if (pending[node.get()] != 0)
        throw Error("the graph has a cycle through " + node->describe() + ": a node depends on its own output");
  }
  return order;
}

void Graph::validate() const {
  check(!outputs_.empty(), "the graph has no outputs");
  for (const auto& node : nodes_) {
    check_against_schema(*node);
    for (const Value* input : node->inputs_)
      if (input != nullptr && input->producer() == nullptr && !input->constant() && !is_input(*input))
        throw Error(node->describe() + " reads value '" + input->name() +
                    "', which no node produces and which is neither a graph input nor a constant");
  }
  for (const Value* output : outputs_)
    check(output->producer() != nullptr || output->constant() || is_input(*output),
          [&] { return "graph output '" + output->name() + "' is produced by no node"; });
  (void)topological_order();
}

void Graph::infer_shapes() {
  for (Node* node : topological_order()) {
    std::vector<InferenceContext::Input> facts;
    for (const Value* input : node->inputs_) {
      if (input == nullptr) {
        facts.emplace_back();
        continue;
      }
      check(input->typed(),
            [&] { return node->describe() + " reads value '" + input->name() + "', whose type is not known yet"; });
      facts.push_back({true, input->dtype(), input->shape(), input->constant()});
    }
    const auto results = infer_node(*node, std::move(facts));
    for (std::size_t i = 0; i < node->outputs_.size(); ++i)
      node->outputs_[i]->set_type(results[i].first, results[i].second);
  }
}

} // namespace tern
