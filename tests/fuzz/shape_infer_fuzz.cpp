// Fuzz target: shape and dtype inference of the core's operators. The fuzz bytes choose a
// small graph (one to three nodes): each node's operator among every registered schema,
// its inputs (graph inputs of any dtype and shape, huge and dynamic dimensions included,
// small constants holding extreme values, absent optional inputs, outputs of earlier
// nodes), its attributes (of the schema's type or not, extreme values, odd lengths) and
// its output count. Graph::validate() and Graph::infer_shapes() must accept the graph or
// refuse it with tern::Error; anything else escaping is a finding, as are crashes and
// sanitizer reports (signed overflow, float-to-int casts out of range, ...). Inferred
// dimensions must be >= 0 or Shape::dynamic.
//
// TERN_FUZZ_DESCRIBE=1 prints each graph built (operators, input types, constant values,
// attributes) to stderr: `TERN_FUZZ_DESCRIBE=1 tern_fuzz_replay_shape_infer crash-...`
// shows what a reproducer holds.
#include "fuzz_util.hpp"

#include <tern/attributes.hpp>
#include <tern/error.hpp>
#include <tern/graph.hpp>
#include <tern/operator.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

namespace {

using namespace tern;
using fuzz::ByteReader;

constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

/// Dimensions: mostly small, sometimes dynamic or huge.
std::int64_t dimension(ByteReader& in) {
  static constexpr std::int64_t dims[] = {1,
                                          1,
                                          2,
                                          3,
                                          4,
                                          5,
                                          8,
                                          16,
                                          0,
                                          0,
                                          Shape::dynamic,
                                          Shape::dynamic,
                                          7,
                                          64,
                                          255,
                                          65536,
                                          2147483647,
                                          2147483648,
                                          4294967296,
                                          1LL << 40,
                                          1LL << 62,
                                          int64_max};
  return dims[in.pick(std::size(dims))];
}

/// Integer values for attributes and constants: the edges of every integer type.
std::int64_t integer(ByteReader& in) {
  static constexpr std::int64_t values[] = {0,
                                            1,
                                            -1,
                                            2,
                                            -2,
                                            3,
                                            4,
                                            -3,
                                            -4,
                                            5,
                                            7,
                                            8,
                                            16,
                                            127,
                                            128,
                                            -128,
                                            255,
                                            256,
                                            32767,
                                            -32768,
                                            2147483647,
                                            -2147483648,
                                            4294967296,
                                            1LL << 62,
                                            int64_max,
                                            int64_min,
                                            int64_max - 1,
                                            int64_min + 1};
  const std::uint8_t mode = in.byte();
  if (mode < 200) return values[in.pick(std::size(values))];
  return static_cast<std::int64_t>(in.u64()); // any bit pattern
}

double floating(ByteReader& in) {
  static constexpr double values[] = {0.0,
                                      1.0,
                                      -1.0,
                                      0.5,
                                      2.0,
                                      1e-7,
                                      -0.0,
                                      1e30,
                                      -1e30,
                                      3.5e38,
                                      1e300,
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::denorm_min(),
                                      9.3e18,
                                      -9.3e18};
  const std::uint8_t mode = in.byte();
  if (mode < 220) return values[in.pick(std::size(values))];
  const std::uint64_t bits = in.u64();
  double value = 0;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

std::string text(ByteReader& in) {
  static const char* const values[] = {"NOTSET",
                                       "SAME_UPPER",
                                       "SAME_LOWER",
                                       "VALID",
                                       "constant",
                                       "reflect",
                                       "edge",
                                       "wrap",
                                       "nearest",
                                       "linear",
                                       "cubic",
                                       "asymmetric",
                                       "half_pixel",
                                       "align_corners",
                                       "pytorch_half_pixel",
                                       "tf_crop_and_resize",
                                       "round_prefer_floor",
                                       "round_prefer_ceil",
                                       "floor",
                                       "ceil",
                                       "Relu",
                                       "Clip",
                                       "LeakyRelu",
                                       "Sigmoid",
                                       "DCR",
                                       "CRD",
                                       "",
                                       "bogus\n==> odd\x01"};
  return values[in.pick(std::size(values))];
}

DataType dtype(ByteReader& in) {
  static constexpr DataType types[] = {DataType::Float32, DataType::Float32, DataType::Float32, DataType::Int64,
                                       DataType::Int64,   DataType::Int32,   DataType::Int8,    DataType::UInt8,
                                       DataType::Bool,    DataType::Float64, DataType::Int16,   DataType::Int4,
                                       DataType::UInt4};
  return types[in.pick(std::size(types))];
}

/// A graph input shape: rank 0 to 5 (rarely up to 9).
Shape shape(ByteReader& in) {
  std::size_t rank = in.pick(6);
  if (in.chance(8)) rank = 6 + in.pick(4);
  std::vector<std::int64_t> dims;
  for (std::size_t i = 0; i < rank; ++i) dims.push_back(dimension(in));
  return Shape(dims);
}

/// A small constant (at most 16 elements) holding edge values of its dtype.
Tensor constant(ByteReader& in) {
  const DataType type = dtype(in);
  std::vector<std::int64_t> dims;
  const std::size_t rank = in.pick(3);
  for (std::size_t i = 0; i < rank; ++i) dims.push_back(static_cast<std::int64_t>(in.pick(5)));
  Tensor tensor(Shape(dims), type);
  auto* bytes = static_cast<std::uint8_t*>(tensor.raw());
  const std::size_t size = size_of(type);
  for (std::int64_t i = 0; i < tensor.numel(); ++i) {
    std::uint8_t* element = bytes + static_cast<std::size_t>(i) * size;
    if (type == DataType::Float32) {
      const auto value = static_cast<float>(floating(in));
      std::memcpy(element, &value, sizeof value);
    } else if (type == DataType::Float64) {
      const double value = floating(in);
      std::memcpy(element, &value, sizeof value);
    } else if (type == DataType::Bool) {
      *element = in.byte() & 1;
    } else if (type == DataType::Int4) {
      *element = static_cast<std::uint8_t>(static_cast<std::int8_t>(static_cast<int>(in.pick(16)) - 8));
    } else if (type == DataType::UInt4) {
      *element = static_cast<std::uint8_t>(in.pick(16));
    } else {
      const std::int64_t value = integer(in); // truncated to the type's width (little-endian)
      std::memcpy(element, &value, size);
    }
  }
  return tensor;
}

Attribute attribute(ByteReader& in, AttributeType type) {
  switch (type) {
  case AttributeType::Int: return integer(in);
  case AttributeType::Float: return floating(in);
  case AttributeType::String: return text(in);
  case AttributeType::Ints: {
    std::vector<std::int64_t> values(in.pick(9));
    for (std::int64_t& value : values) value = in.chance(160) ? static_cast<std::int64_t>(in.pick(5)) : integer(in);
    return values;
  }
  case AttributeType::Floats: {
    std::vector<double> values(in.pick(9));
    for (double& value : values) value = floating(in);
    return values;
  }
  case AttributeType::Tensor: return constant(in);
  }
  return std::int64_t{0};
}

const std::vector<std::string>& op_types() {
  static const std::vector<std::string> types = registered_op_types();
  return types;
}

/// Adds one node (and the graph inputs and constants it reads) to `graph`.
void add_node(Graph& graph, ByteReader& in, std::size_t index, std::vector<std::string>& values) {
  const std::string& op_type = op_types()[in.pick(op_types().size())];
  const OpSchema& schema = tern::schema(op_type);
  const auto min_inputs = static_cast<std::size_t>(std::max(schema.min_inputs, 0));
  const auto max_inputs = std::max(min_inputs, static_cast<std::size_t>(std::max(schema.max_inputs, 0)));
  std::size_t input_count = min_inputs + in.pick(std::min(max_inputs, min_inputs + 4) - min_inputs + 1);
  if (in.chance(6)) input_count = in.pick(max_inputs + 2); // arity outside the schema now and then

  std::vector<std::string> inputs;
  for (std::size_t i = 0; i < input_count; ++i) {
    const std::uint8_t mode = in.byte();
    const std::string name = "v" + std::to_string(index) + "_" + std::to_string(i);
    if (mode < 20 && i >= min_inputs) {
      inputs.emplace_back(); // an absent optional input
    } else if (mode < 70 && !values.empty()) {
      inputs.push_back(values[in.pick(values.size())]); // an existing value: an earlier output, or read twice
    } else if (mode < 150) {
      graph.add_constant(name, constant(in));
      inputs.push_back(name);
      values.push_back(name);
    } else {
      graph.add_input(name, dtype(in), shape(in));
      inputs.push_back(name);
      values.push_back(name);
    }
  }

  Attributes attributes;
  for (const AttributeSpec& spec : schema.attributes) {
    const std::uint8_t mode = in.byte();
    if (mode < 100) continue; // left to its default
    const AttributeType type = mode < 245 ? spec.type : static_cast<AttributeType>(in.pick(6));
    attributes.set(spec.name, attribute(in, type));
  }
  if (in.chance(4)) attributes.set("no_such_attribute", std::int64_t{1});

  const auto min_outputs = static_cast<std::size_t>(std::max(schema.min_outputs, 1));
  const auto max_outputs = std::max(min_outputs, static_cast<std::size_t>(std::max(schema.max_outputs, 0)));
  const std::size_t output_count = min_outputs + in.pick(std::min(max_outputs, min_outputs + 2) - min_outputs + 1);
  std::vector<std::string> outputs;
  for (std::size_t i = 0; i < output_count; ++i) {
    outputs.push_back("n" + std::to_string(index) + "_out" + std::to_string(i));
    values.push_back(outputs.back());
  }
  graph.add_node(op_type, inputs, outputs, std::move(attributes), "node" + std::to_string(index));
  for (const std::string& output : outputs) graph.add_output(output);
}

/// "x: int64[2] = [1,-9223372036854775808]".
std::string describe(const Value& value) {
  std::string text = value.name() + ": " + std::string(name(value.dtype())) + value.shape().to_string();
  if (const Tensor* data = value.constant()) {
    std::string values;
    if (info(data->dtype()).is_integer)
      for (const std::int64_t v : data->to_int64s()) values += (values.empty() ? "" : ",") + std::to_string(v);
    else
      for (const double v : data->to_doubles()) values += (values.empty() ? "" : ",") + std::to_string(v);
    text += " = [" + values + "]";
  }
  return text;
}

void describe(const Graph& graph) {
  for (const Node* node : graph.nodes()) {
    std::cerr << node->name() << " " << node->op_type() << "(";
    for (std::size_t i = 0; i < node->inputs().size(); ++i)
      std::cerr << (i ? ", " : "") << (node->inputs()[i] ? describe(*node->inputs()[i]) : std::string("<absent>"));
    std::cerr << ")";
    for (const auto& [key, value] : node->attrs().all()) std::cerr << " " << key << "=" << to_string(value);
    std::cerr << " -> " << node->outputs().size() << " output(s)\n";
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool describe_graphs = std::getenv("TERN_FUZZ_DESCRIBE") != nullptr;
  ByteReader in(data, size);
  Graph graph;
  try {
    std::vector<std::string> values;
    const std::size_t nodes = 1 + in.pick(3);
    for (std::size_t i = 0; i < nodes; ++i) add_node(graph, in, i, values);
    if (describe_graphs) describe(graph);
    graph.validate();
    graph.infer_shapes();
  } catch (const Error& error) {
    if (describe_graphs) std::cerr << "refused: " << error.what() << "\n";
    return 0; // refused: the expected outcome for many graphs
  }
  if (describe_graphs) std::cerr << "accepted\n";
  for (const Node* node : graph.nodes())
    for (const Value* output : node->outputs())
      if (output->typed())
        for (const std::int64_t d : output->shape())
          if (d < 0 && d != Shape::dynamic)
            fuzz::property_failed("node " + node->name() + " (" + node->op_type() + ") inferred the shape " +
                                  output->shape().to_string() + " for '" + output->name() + "'");
  return 0;
}
