#pragma once
// The integer network as the C code runs it: one sample, every shape static, each
// Requantize that follows an integer Conv/Gemm/MatMul fused into it, and the float edges
// (the input's quantization, the output's dequantization) described apart.

#include <tern/graph.hpp>

#include <string>
#include <vector>

namespace tern::export_c {

/// Tern's input scaling (tern::ptq::scale_input) applied before the graph's input Requantize.
struct InputScaling {
  float scale = 1.0f;
  float limit = 3.0e38f;
  bool round = false;
};

struct Program {
  /// The integer graph with batch 1 and Requantizes fused: float input, float output.
  Graph graph;
  /// The Requantize that turns the float input into int8 (NAME_run does it in float).
  const Node* input_quantizer = nullptr;
  /// Its output, the int8 tensor NAME_run_int takes.
  const Value* int_input = nullptr;
  /// The last integer value, before the dequantization (NAME_run_int's output).
  const Value* int_output = nullptr;
  /// The nodes NAME_run_int runs, in order: all but input_quantizer and the dequantization.
  std::vector<const Node*> steps;
  /// Float output = float32(int output) * output_scale[channel] (empty: 1), channels along
  /// axis 1 of the int output, each `output_inner` elements long.
  std::vector<float> output_scale;
  std::int64_t output_inner = 1;
};

/// The program of a graph from tern::ptq::cast_to_integer with one input and one output.
/// Throws tern::Error listing every node the C kernels cannot run (op, name, why).
Program make_program(const Graph& integer_graph);

} // namespace tern::export_c
