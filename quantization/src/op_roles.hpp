#pragma once
// How the PTQ treats each operator: the one table of what it knows how to quantize.

#include <tern/graph.hpp>

#include <optional>
#include <vector>

namespace tern::ptq {

enum class Role {
  Affine,      ///< Conv, ConvTranspose, Gemm, MatMul with constant weights: weights quantized,
               ///< output rescaled
  Merge,       ///< Add, Sub of two activations: inputs brought to the output scale first
  Concat,      ///< inputs requantized to one common scale
  Average,     ///< AveragePool, GlobalAveragePool: integer mean rescaled and rounded
  PassThrough, ///< MaxPool, Reshape, Flatten, ...: integers in, same integers and scale out
  Interpolate, ///< linear Resize: integers in, their blends rounded, on the same scale
  Activation,  ///< Relu, Clip: folded into the producer's quantizer or applied to integers
  Lookup,      ///< an elementwise function of one activation (Sigmoid, HardSwish, Mul by a
               ///< scalar, ...): a table of its 2^bits results on integers
  Product,     ///< Mul of two activations (squeeze-excitation, SiLU): integer product rescaled
  Scale,       ///< Mul or Div by a constant along at most one axis (a layer scale): a rescale
  Shape,       ///< reads no activation's values (Shape, int64 shape arithmetic): left as it is
  FloatIsland, ///< LayerNormalization, Softmax, cubic Resize, arithmetic with a
               ///< constant tensor: float between a dequantize and its readers' quantize
  Float,       ///< anything else: unsupported, or run in float when the user asks (keep_float)
};

Role role_of(const Graph& graph, const Node& node);

/// Throws tern::Error naming the first node of `graph` that prepare_for_inference wrote (a
/// fused activation or requantization, a channels-last op, a RequantizeAdd): the PTQ's
/// passes take the model as loaded, and would leave such nodes in float without a word.
/// `pass` begins the message.
void require_unprepared(const Graph& graph, const std::string& pass);

/// The input of an elementwise function of one tensor: a unary function (Sigmoid,
/// HardSwish, Tanh, Erf, ...) or arithmetic with a scalar constant (x * 0.5, x + 3, ...);
/// nullopt for any other node. Its results on the 256 values of an 8-bit input make a table.
std::optional<std::size_t> function_operand(const Node& node);

/// For a Mul of an activation by a constant, or a Div of it by one, that varies along at
/// most one of the activation's axes without broadcasting it to a larger shape: the
/// activation's input index. nullopt otherwise.
std::optional<std::size_t> scaled_operand(const Node& node);

/// The Relu or constant-bound Clip that alone reads `value` (so the PTQ can fold it into the
/// quantizer of `value`'s producer), or nullptr.
Node* activation_tail(const Graph& graph, const Value& value);

/// Clip bounds of an Activation node (Relu: [0, +inf]); nullopt for an open side.
struct ActivationBounds {
  std::optional<double> min;
  std::optional<double> max;
};
ActivationBounds activation_bounds(const Node& activation);

/// The value whose range sets the output scale of a rescaling node: its output, or the
/// output of its activation tail.
const Value& quantization_point(const Graph& graph, const Node& node);

/// Every value whose range the quantization needs: graph inputs, quantization points of
/// rescaling nodes, float outputs of float, float-island and shape nodes.
std::vector<const Value*> calibration_points(const Graph& graph);

/// Nodes of `role`, as "'name' (Op)" texts joined by commas; empty when there are none.
std::string nodes_of_role(const Graph& graph, Role role);

/// nodes_of_role(graph, Role::Float): empty when the PTQ handles every node. Throws listing
/// them unless `keep_float`.
std::string check_float_nodes(const Graph& graph, bool keep_float);

} // namespace tern::ptq
