// matmul_as_gemm: a linear layer exported as MatMul by a constant matrix, then Add of a
// constant bias (what TensorFlow converters, Keras and some PyTorch paths write), is the
// Gemm PyTorch writes for the same layer. One form means one treatment downstream: the PTQ
// equalises and bias-corrects Gemm, and oneDNN runs it as one inner product.
#include <tern/recipes.hpp>

namespace tern {
namespace {

const Tensor* float_matrix(const Value* value) {
  return value != nullptr && value->constant() && value->dtype() == DataType::Float32 &&
                 value->constant()->shape().rank() == 2
             ? value->constant()
             : nullptr;
}

/// The constant operand of an Add that reads `product` and nothing else of it: a bias of
/// `columns` values (shape [N] or [1, N]); nullptr when the Add is anything else.
Value* bias_of(const Graph& graph, const Node& add, const Value& product, std::int64_t columns) {
  if (add.op_type() != "Add" || add.inputs().size() != 2) return nullptr;
  Value* other = add.input(0) == &product ? add.input(1) : add.input(0);
  if (other == &product || !other->constant() || other->dtype() != DataType::Float32 || graph.is_input(*other))
    return nullptr;
  const Shape& shape = other->constant()->shape();
  const bool row =
      (shape.rank() == 1 && shape[0] == columns) || (shape.rank() == 2 && shape[0] == 1 && shape[1] == columns);
  return row ? other : nullptr;
}

} // namespace

std::size_t matmul_as_gemm(Graph& graph) {
  graph.infer_shapes();
  std::size_t turned = 0;
  for (Node* matmul : graph.nodes()) {
    if (matmul->op_type() != "MatMul" || matmul->input(0)->shape().rank() != 2) continue;
    const Tensor* weights = float_matrix(matmul->input(1));
    if (weights == nullptr) continue;
    Value& product = *matmul->output();
    const std::vector<Node*> readers = graph.consumers(product);
    Value* bias = nullptr;
    if (readers.size() == 1 && !graph.is_output(product))
      bias = bias_of(graph, *readers[0], product, weights->shape()[1]);

    std::vector<Value*> inputs{matmul->input(0), matmul->input(1)};
    if (bias != nullptr) {
      const std::vector<double> values = bias->constant()->to_doubles();
      inputs.push_back(&graph.add_constant(
          graph.unique_name(bias->name() + "_row"),
          Tensor::from_floats(Shape{weights->shape()[1]}, std::vector<float>(values.begin(), values.end()))));
    }
    // The node keeps its name and meta (precision tags); the Add goes as a bypassed node so
    // a graph output keeps its name. The Add's meta describes the value the Gemm now
    // produces (e.g. a network output's precision): it overrides the MatMul's.
    Node& gemm = graph.replace_node(*matmul, "Gemm", inputs);
    if (bias != nullptr) {
      for (const auto& [key, value] : readers[0]->meta().all()) gemm.meta().set(key, value);
      if (readers[0]->input(0) != &product) graph.replace_node(*readers[0], "Add", {&product, bias});
      graph.bypass_node(*graph.consumers(product)[0]);
    }
    ++turned;
  }
  if (turned > 0) graph.infer_shapes();
  return turned;
}

} // namespace tern
