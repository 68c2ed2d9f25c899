#include "to_qdq.hpp"

#include "cast_to_integer.hpp"
#include "op_roles.hpp"
#include "quantize_graph.hpp"

#include <tern/error.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace tern::ptq {
namespace {

bool is_8bit(DataType type) { return type == DataType::Int8 || type == DataType::UInt8; }

/// The single reader of `value`, or nullptr.
Node* sole_reader(const Graph& graph, const Value& value) {
  const std::vector<Node*> readers = graph.consumers(value);
  return readers.size() == 1 && !graph.is_output(value) ? readers[0] : nullptr;
}

bool is_op(const Node* node, const std::string& op) { return node != nullptr && node->op_type() == op; }

std::vector<float> floats(const std::vector<double>& values) { return {values.begin(), values.end()}; }

/// Writes the QDQ graph node by node, keeping for every 8-bit value its scale and type.
class QdqWriter {
public:
  QdqWriter(const Graph& integer, double input_scale) : in_(integer), input_scale_(input_scale) {
    for (const auto& [key, value] : integer.meta().all())
      if (key != input_scale_key && key != input_limit_key && key != input_round_key) out_.meta().set(key, value);
    for (const Value* input : integer.inputs()) out_.add_input(input->name(), input->dtype(), input->shape());
  }

  Graph finish() {
    // Nodes without a QDQ form, and how many more only fail because they read their results.
    std::vector<std::string> causes;
    std::set<const Value*> unwritten;
    std::size_t consequences = 0;
    for (const Node* node : in_.topological_order()) {
      if (done_.contains(node)) continue;
      const std::string reason = write(*node);
      if (reason.empty()) continue;
      unwritten.insert(node->outputs().begin(), node->outputs().end());
      if (std::ranges::any_of(node->inputs(), [&](const Value* in) { return unwritten.contains(in); }))
        ++consequences;
      else
        causes.push_back("'" + node->name() + "' (" + node->op_type() + "): " + reason);
    }
    check(causes.empty(), [&] {
      constexpr std::size_t listed = 6;
      std::string text = "cannot write QDQ: " + std::to_string(causes.size()) + " node(s) outside the integer graph: ";
      for (std::size_t i = 0; i < std::min(causes.size(), listed); ++i) text += (i ? "; " : "") + causes[i];
      if (causes.size() > listed) text += "; and " + std::to_string(causes.size() - listed) + " more";
      if (consequences > 0) text += " (" + std::to_string(consequences) + " node(s) after them read their results)";
      return text;
    });
    for (const Value* output : in_.outputs()) out_.add_output(output->name());
    out_.infer_shapes();
    return std::move(out_);
  }

private:
  /// Why `node` has no QDQ form ("" once written).
  std::string write(const Node& node) {
    const std::string& op = node.op_type();
    const Value* x = node.input(0);
    if (op == "Requantize") return requantize(node);
    if ((op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul") && quantized(x)) return affine(node);
    if (op == "Add" && x != nullptr && x->dtype() == DataType::Int32) return add(node);
    if (op == "Mul" && node.output()->dtype() == DataType::Int32) return product(node);
    if (op == "Cast" && quantized(x)) return cast(node);
    if (op == "TableLookup" && quantized(x)) return table(node);
    if (op == "Relu" && quantized(x)) return relu(node);
    if (op == "Resize" && node.attr<std::string>("mode") == "linear" && quantized(x)) return interpolate(node);
    static const std::set<std::string> byte_ops{"MaxPool",  "Reshape",   "Flatten", "Squeeze", "Unsqueeze",
                                                "Identity", "Transpose", "Concat",  "Resize",  "Slice",
                                                "Gather",   "Expand",    "Tile"};
    if (op == "Pad" && quantized(x)) return pad(node);
    if (byte_ops.contains(op) && quantized(x)) return pass_through(node);
    // Float islands (what stays float between a dequantization and the next quantizer) and
    // shape arithmetic, which reads an 8-bit tensor's shape only.
    const auto integer = [&](const Value* in) {
      return in != nullptr && (in->dtype() == DataType::Int32 || (quantized(in) && op != "Shape" && op != "Size"));
    };
    if (std::none_of(node.inputs().begin(), node.inputs().end(), integer)) return copy(node);
    return "no QDQ form for it here";
  }

  bool quantized(const Value* value) const { return value != nullptr && scale_.contains(value->name()); }

  /// The real value of one step of the integers `quantizer` makes, recorded by quantize_network.
  static float step(const Node& quantizer) {
    check(quantizer.meta().has(step_key), [&] {
      return "cannot write QDQ: " + quantizer.describe() + " carries no " + step_key +
             " (to_qdq takes the graph quantize_network made, not one loaded from a file): quantize the float "
             "model again";
    });
    return static_cast<float>(std::stod(quantizer.meta().get<std::string>(step_key)));
  }

  // ---- building blocks --------------------------------------------------------------

  /// A fresh short name for a node or value the conversion adds (DequantizeLinear
  /// outputs, float results, scales): they are many, and a small model's QDQ file would be
  /// mostly names. Unused in both graphs, so no value of the integer graph written later
  /// (an output, say) meets a name taken here.
  std::string short_name(const std::string& prefix) {
    std::string name;
    do {
      name = prefix + std::to_string(++counters_[prefix]);
    } while (taken(name));
    return name;
  }

  bool taken(const std::string& name) const {
    return out_.find_value(name) != nullptr || in_.find_value(name) != nullptr || out_.find_node(name) != nullptr ||
           in_.find_node(name) != nullptr;
  }

  /// A constant every reader shares, made on first use (zero points: referenced by every
  /// QuantizeLinear and DequantizeLinear, so their names are short too).
  std::string shared_constant(const std::string& base, const Tensor& tensor) {
    const auto [found, added] = shared_.try_emplace(base);
    if (added) {
      std::string name = base;
      for (int i = 1; taken(name); ++i) name = base + "_" + std::to_string(i);
      out_.add_constant(name, tensor);
      found->second = name;
    }
    return found->second;
  }

  /// The QDQ graph's name for integer-graph value `name`: short for the tensors the
  /// conversion owns (8-bit activations, weights), the same for graph inputs and outputs.
  std::string renamed(const std::string& name) {
    if (const auto found = names_.find(name); found != names_.end()) return found->second;
    const Value* value = in_.find_value(name);
    if (value != nullptr && (in_.is_input(*value) || in_.is_output(*value))) return name;
    return names_.emplace(name, short_name("t")).first->second;
  }

  /// The original constant `value`, copied over once.
  std::string copied(const Value& value) {
    const std::string name = renamed(value.name());
    if (out_.find_value(name) == nullptr) out_.add_constant(name, *value.constant());
    return name;
  }

  /// A scale constant: a scalar for one value, else 1-D.
  std::string scale_constant(const std::vector<float>& scale) {
    const Shape shape = scale.size() == 1 ? Shape{} : Shape{static_cast<std::int64_t>(scale.size())};
    const std::string name = short_name("s");
    out_.add_constant(name, Tensor::from_floats(shape, scale));
    return name;
  }

  /// The uint8 zero point of activations (uint8: what x86 integer kernels take): 0 for one
  /// Tern clamps at 0 (its Relu then implied, as integer runtimes fuse it), else 128. One
  /// constant each.
  std::string activation_zero(std::uint8_t zero) {
    return shared_constant("zp" + std::to_string(zero), Tensor::from<std::uint8_t>(Shape{}, DataType::UInt8, {zero}));
  }

  /// The scale and zero point constants of 8-bit value `name`, made once.
  std::pair<std::string, std::string> activation_constants(const std::string& name) {
    auto found = constants_.find(name);
    if (found == constants_.end()) {
      found =
          constants_.emplace(name, std::pair{scale_constant({scale_.at(name)}), activation_zero(zero_.at(name))}).first;
    }
    return found->second;
  }

  /// DequantizeLinear of the 8-bit value `name` (one per reader, as integer runtimes group them).
  std::string dequantized(const std::string& name) {
    const auto [s, z] = activation_constants(name);
    const std::string result = short_name("dq");
    out_.add_node("DequantizeLinear", {renamed(name), s, z}, {result}, {}, short_name("n"));
    return result;
  }

  /// DequantizeLinear of constant `value` with one scale per slice along `axis` (the
  /// attribute written only then): int8 weights with their zero points (0; integer runtimes
  /// look for them, and all of one length share one), int32 biases without.
  std::string dequantized_constant(const Value& value, const std::vector<float>& scale, std::int64_t axis) {
    Attributes attrs;
    if (scale.size() > 1) attrs.set("axis", axis);
    std::vector<std::string> inputs{copied(value), scale_constant(scale)};
    if (value.constant()->dtype() == DataType::Int8) {
      const Shape shape = out_.value(inputs[1]).constant()->shape();
      inputs.push_back(shared_constant(scale.size() == 1 ? "zp0_i8" : "zp0_i8x" + std::to_string(scale.size()),
                                       Tensor(shape, DataType::Int8)));
    }
    const std::string result = short_name("dq");
    out_.add_node("DequantizeLinear", inputs, {result}, attrs, short_name("n"));
    return result;
  }

  /// QuantizeLinear of float `from` into uint8 `to`: zero point 0 when Tern's lower bound
  /// is 0, else 128 (one type everywhere: integer runtimes want an op's input and output
  /// of one type).
  void quantize(const std::string& from, const std::string& to, float scale, std::int64_t lo) {
    scale_[to] = scale;
    zero_[to] = lo >= 0 ? std::uint8_t{0} : std::uint8_t{128};
    const auto [s, z] = activation_constants(to);
    out_.add_node("QuantizeLinear", {from, s, z}, {renamed(to)}, {}, short_name("n"));
  }

  // ---- the node kinds ---------------------------------------------------------------

  /// y = clamp(round(x · c)): from a float x (Tern's input scaling too, for a graph input) a
  /// QuantizeLinear; from an int32 accumulator, sum or product its float twin's; from 8-bit x
  /// a DequantizeLinear → QuantizeLinear (a per-channel c as a Mul between). An int32 term
  /// of a residual sum is written with its Add.
  std::string requantize(const Node& node) {
    const Value& x = *node.input(0);
    const std::vector<double> factor = node.attr<std::vector<double>>("scale");
    const std::string& y = node.output()->name();
    const std::int64_t lo = node.attr<std::int64_t>("lo");
    if (node.output()->dtype() == DataType::Int32)
      return is_op(sole_reader(in_, *node.output()), "Add") ? "" : "an int32 Requantize outside a residual sum";
    if (const auto twin = float_.find(x.name()); twin != float_.end()) {
      quantize(twin->second, y, step(node), lo);
      return "";
    }
    if (x.dtype() == DataType::Float32) {
      if (factor.size() != 1) return "a per-channel quantizer of a float tensor";
      const double scaling = in_.is_input(x) ? input_scale_ : 1.0;
      quantize(renamed(x.name()), y, static_cast<float>(1.0 / (scaling * factor[0])), lo);
      return "";
    }
    if (!quantized(&x)) return "a Requantize of an integer tensor without a QDQ form";
    const float s_y = step(node);
    quantize(rescaled(dequantized(x.name()), factor, node.attr<std::int64_t>("axis"), x, scale_.at(x.name()), s_y), y,
             s_y, lo);
    return "";
  }

  /// Float `real` (rank of `like`) times g = c · to / from along `axis` where g is not 1:
  /// what an integer factor c between steps `from` and `to` leaves of real values.
  std::string rescaled(const std::string& real, const std::vector<double>& c, std::int64_t axis, const Value& like,
                       float from, float to) {
    std::vector<float> g;
    for (const double f : c) g.push_back(static_cast<float>(f * to / from));
    if (std::all_of(g.begin(), g.end(), [](float v) { return std::abs(v - 1.0f) < 1e-5f; })) return real;
    std::vector<std::int64_t> dims(like.shape().rank(), 1);
    if (g.size() > 1) dims.at(static_cast<std::size_t>(axis)) = static_cast<std::int64_t>(g.size());
    const std::string factor = short_name("g");
    out_.add_constant(factor, Tensor::from_floats(g.size() > 1 ? Shape(dims) : Shape{}, g));
    const std::string result = short_name("f");
    out_.add_node("Mul", {real, factor}, {result}, {}, short_name("n"));
    return result;
  }

  /// Conv/ConvTranspose/Gemm/MatMul: its float twin (read by its Requantize) or, read
  /// through Cast → Mul, the dequantized accumulator itself. Weights dequantize to their
  /// real values: s_w = r · s_y / s_x with r the Requantize's factor.
  std::string affine(const Node& node) {
    const Value& acc = *node.output();
    Node* reader = sole_reader(in_, acc);
    const Value* w = node.input(1);
    const Value* bias = node.op_type() == "MatMul" ? nullptr : node.input(2);
    if (w == nullptr || w->constant() == nullptr || (bias != nullptr && bias->constant() == nullptr))
      return "its weights and bias must be constants";
    if (write_pooling(node)) return "";
    const float s_x = scale_.at(node.input(0)->name());
    if (is_op(reader, "Requantize")) {
      const float s_y = step(*reader);
      std::vector<float> s_w;
      for (const float r : floats(reader->attr<std::vector<double>>("scale"))) s_w.push_back(r * s_y / s_x);
      float_[acc.name()] = emit_affine(node, s_w, short_name("f"));
      return "";
    }
    const Node* mul = is_op(reader, "Cast") ? sole_reader(in_, *reader->output()) : nullptr;
    if (!is_op(mul, "Mul") || mul->input(1)->constant() == nullptr)
      return "its int32 accumulator is read by neither one Requantize nor a dequantization";
    // acc · c = acc · s_x · s_w: the float result directly.
    std::vector<float> s_w;
    for (const double f : mul->input(1)->constant()->to_doubles()) s_w.push_back(static_cast<float>(f) / s_x);
    emit_affine(node, s_w, renamed(mul->output()->name()));
    done_.insert(reader);
    done_.insert(mul);
    return "";
  }

  /// cast_to_integer's average pooling (a depthwise Conv of int8 ones: window sums) back as
  /// GlobalAveragePool or AveragePool of the dequantized input, its float twin. False
  /// (nothing written) for any other Conv.
  bool write_pooling(const Node& node) {
    const Value& w = *node.input(1);
    const Shape& x = node.input(0)->shape();
    if (node.op_type() != "Conv" || node.input(2) != nullptr || x.rank() != 4 || w.shape().rank() != 4 ||
        w.shape()[1] != 1 || node.attr<std::int64_t>("group") != x[1] || w.shape()[0] != x[1])
      return false;
    const std::vector<double> ones = w.constant()->to_doubles();
    if (std::any_of(ones.begin(), ones.end(), [](double v) { return v != 1.0; })) return false;
    const bool global = w.shape()[2] == x[2] && w.shape()[3] == x[3] && node.output()->shape()[2] == 1 &&
                        node.output()->shape()[3] == 1;
    Attributes attrs;
    if (!global) {
      attrs.set("kernel_shape", std::vector<std::int64_t>{w.shape()[2], w.shape()[3]});
      for (const char* key : {"strides", "pads"})
        if (node.attrs().has(key)) attrs.set(key, node.attr<std::vector<std::int64_t>>(key));
      attrs.set("count_include_pad", std::int64_t{1});
    }
    const std::string mean = short_name("f");
    out_.add_node(global ? "GlobalAveragePool" : "AveragePool", {dequantized(node.input(0)->name())}, {mean}, attrs,
                  node.name());
    float_[node.output()->name()] = mean;
    return true;
  }

  /// The float affine node over dequantized input, weights (scale s_w per output channel)
  /// and bias (scale s_x · s_w), writing `output`; returns it.
  std::string emit_affine(const Node& node, const std::vector<float>& s_w, const std::string& output) {
    const float s_x = scale_.at(node.input(0)->name());
    const bool w_rows = node.op_type() == "Conv" || (node.op_type() == "Gemm" && node.attr<std::int64_t>("transB"));
    std::string x = node.input(0)->name();
    if (node.op_type() == "Gemm" && node.input(0)->shape().rank() > 2) {
      // Tern's Gemm flattens A itself; ONNX's needs a Flatten, on the 8-bit side so that
      // DequantizeLinear feeds the Gemm directly (what integer runtimes look for).
      Attributes axis;
      axis.set("axis", std::int64_t{1});
      const std::string flat = short_name("flat");
      out_.add_node("Flatten", {renamed(x)}, {flat}, axis);
      names_[flat] = flat;
      same_quantization(flat, x);
      x = flat;
    }
    std::vector<std::string> inputs{dequantized(x), dequantized_constant(*node.input(1), s_w, w_rows ? 0 : 1)};
    if (const Value* bias = node.op_type() == "MatMul" ? nullptr : node.input(2)) {
      std::vector<float> s_b;
      for (const float f : s_w) s_b.push_back(s_x * f);
      inputs.push_back(dequantized_constant(*bias, s_b, static_cast<std::int64_t>(bias->shape().rank()) - 1));
    }
    Attributes attrs = node.attrs();
    out_.add_node(node.op_type(), inputs, {output}, std::move(attrs), node.name());
    return output;
  }

  /// The residual sum Add(Requantize(a; c_a), Requantize(b; c_b)) in int32, read by
  /// Requantizes of factor r: its float twin Add(a·g_a, b·g_b) over the dequantized
  /// operands, g = c · r · s_y / s_operand (1 but for the float rounding of the factors).
  std::string add(const Node& node) {
    const std::vector<Node*> readers = in_.consumers(*node.output());
    if (readers.empty() || in_.is_output(*node.output()) || !is_op(readers[0], "Requantize") ||
        readers[0]->attr<std::vector<double>>("scale").size() != 1)
      return "its int32 sum is read by something other than per-tensor Requantizes";
    const double unit = readers[0]->attr<std::vector<double>>("scale")[0] * step(*readers[0]);
    std::vector<std::string> terms;
    for (const Value* in : node.inputs()) {
      const Node* term = in == nullptr ? nullptr : in->producer();
      if (!is_op(term, "Requantize") || !quantized(term->input(0)))
        return "an Add that is not the integer residual sum cast_to_integer writes";
      const Value& a = *term->input(0);
      terms.push_back(rescaled(dequantized(a.name()), term->attr<std::vector<double>>("scale"),
                               term->attr<std::int64_t>("axis"), a, scale_.at(a.name()), static_cast<float>(unit)));
    }
    const std::string sum = short_name("f");
    out_.add_node("Add", terms, {sum}, {}, node.name());
    float_[node.output()->name()] = sum;
    return "";
  }

  /// Mul(Cast(a), Cast(b)) in int32, the product of two activations: its float twin
  /// Mul(DequantizeLinear(a), DequantizeLinear(b)).
  std::string product(const Node& node) {
    std::vector<std::string> factors;
    for (const Value* in : node.inputs()) {
      const Node* cast = in == nullptr ? nullptr : in->producer();
      if (!is_op(cast, "Cast") || !quantized(cast->input(0))) return "an int32 Mul of other than two activations";
      factors.push_back(dequantized(cast->input(0)->name()));
    }
    const std::string result = short_name("f");
    out_.add_node("Mul", factors, {result}, {}, node.name());
    float_[node.output()->name()] = result;
    return "";
  }

  /// A Cast of 8-bit integers: to int32 for a product (written with it); to float32 (a float
  /// island's input) a DequantizeLinear: of scale c when a Mul by scalar c reads it (the
  /// dequantization quantize_network wrote), else of scale 1 (the bare integers).
  std::string cast(const Node& node) {
    const std::string& x = node.input(0)->name();
    const std::string& to = node.attr<std::string>("to");
    if (to == "int32") {
      const std::vector<Node*> readers = in_.consumers(*node.output());
      return std::all_of(readers.begin(), readers.end(),
                         [](const Node* r) { return r->op_type() == "Mul" && r->output()->dtype() == DataType::Int32; })
                 ? ""
                 : "a Cast of 8-bit integers to int32 read by other than a product";
    }
    if (to != "float32") return "a Cast of 8-bit integers to " + to;
    const Node* mul = sole_reader(in_, *node.output());
    const Value* c = is_op(mul, "Mul") && mul->input(0) == node.output() ? mul->input(1) : nullptr;
    const bool scaled = c != nullptr && c->constant() != nullptr && c->constant()->numel() == 1;
    const std::string output = renamed(scaled ? mul->output()->name() : node.output()->name());
    out_.add_node("DequantizeLinear",
                  {renamed(x), scale_constant({scaled ? static_cast<float>(c->constant()->to_doubles()[0]) : 1.0f}),
                   activation_zero(zero_.at(x))},
                  {output}, {}, node.name());
    if (scaled) done_.insert(mul);
    return "";
  }

  /// TableLookup: the same table on the QDQ integers, a Gather of its 256 uint8 entries
  /// indexed by the input (exact; integer runtimes run Cast and Gather on integers).
  std::string table(const Node& node) {
    const Value& x = *node.input(0);
    const Value& y = *node.output();
    const Tensor& values = *node.input(1)->constant();
    if (!is_8bit(values.dtype())) return "a table of int32 results";
    const std::vector<double> entries = values.to_doubles();
    const std::uint8_t zero_y = *std::min_element(entries.begin(), entries.end()) >= 0 ? 0 : 128;
    const auto lowest = static_cast<int>(info(x.dtype()).lowest);
    std::vector<std::uint8_t> qdq_table;
    for (int u = 0; u < 256; ++u) {
      const int index = std::clamp(u - zero_.at(x.name()), lowest, lowest + 255) - lowest;
      const double entry = entries[static_cast<std::size_t>(index)] + zero_y;
      qdq_table.push_back(static_cast<std::uint8_t>(std::clamp(entry, 0.0, 255.0)));
    }
    const std::string table_name = short_name("table");
    out_.add_constant(table_name, Tensor::from(Shape{256}, DataType::UInt8, qdq_table));
    Attributes to;
    to.set("to", std::string("int32"));
    const std::string index = short_name("i");
    out_.add_node("Cast", {renamed(x.name())}, {index}, to, short_name("n"));
    out_.add_node("Gather", {table_name, index}, {renamed(y.name())}, {}, node.name());
    scale_[y.name()] = step(node);
    zero_[y.name()] = zero_y;
    return "";
  }

  /// Relu on 8-bit integers: nothing to do where the zero point is 0 (already clamped),
  /// else DequantizeLinear → Relu → QuantizeLinear of the same scale, zero point 0.
  std::string relu(const Node& node) {
    const std::string& x = node.input(0)->name();
    if (zero_.at(x) == 0) return pass_through(node);
    const std::string result = short_name("f");
    out_.add_node("Relu", {dequantized(x)}, {result}, {}, node.name());
    quantize(result, node.output()->name(), scale_.at(x), 0);
    return "";
  }

  /// cast_to_integer's linear Resize of integers and the Requantize of scale 1 behind it (the
  /// fake-quantized form's Round): a float Resize between DequantizeLinear and QuantizeLinear
  /// of the input's scale, which rounds alike (half to even).
  std::string interpolate(const Node& node) {
    const Node* reader = sole_reader(in_, *node.output());
    if (!is_op(reader, "Requantize") || reader->attr<std::vector<double>>("scale") != std::vector<double>{1.0})
      return "a linear Resize of integers not rounded by one Requantize of scale 1";
    const auto& all = node.inputs();
    std::vector<std::string> inputs{dequantized(node.input(0)->name())};
    for (std::size_t i = 1; i < all.size(); ++i)
      inputs.push_back(all[i] == nullptr ? std::string() : input_name(*all[i]));
    const std::string blend = short_name("f");
    Attributes attrs = node.attrs();
    out_.add_node("Resize", inputs, {blend}, std::move(attrs), node.name());
    quantize(blend, reader->output()->name(), scale_.at(node.input(0)->name()), reader->attr<std::int64_t>("lo"));
    done_.insert(reader);
    return "";
  }

  /// Ops that move or select 8-bit values keep them, scale and type included; their 8-bit
  /// inputs must agree on both.
  std::string pass_through(const Node& node) {
    const std::string& first = node.input(0)->name();
    std::vector<std::string> inputs;
    for (const Value* in : node.inputs()) {
      if (quantized(in) && (scale_.at(in->name()) != scale_.at(first) || zero_.at(in->name()) != zero_.at(first)))
        return "its inputs have different scales or zero points";
      inputs.push_back(in == nullptr ? std::string() : input_name(*in));
    }
    std::vector<std::string> outputs;
    for (const Value* out : node.outputs()) outputs.push_back(renamed(out->name()));
    Attributes attrs = node.attrs();
    out_.add_node(node.op_type(), inputs, outputs, std::move(attrs), node.name());
    same_quantization(node.output()->name(), first);
    return "";
  }

  /// Pad of 8-bit integers: its constant fill moves to the QDQ integers (+ zero point).
  std::string pad(const Node& node) {
    const Value* fill = node.inputs().size() > 2 ? node.input(2) : nullptr;
    if (node.attrs().get_or<std::string>("mode", "constant") != "constant") return pass_through(node);
    if (fill != nullptr && fill->constant() == nullptr) return "a Pad of 8-bit integers with a computed fill";
    const std::string& x = node.input(0)->name();
    const double value = (fill != nullptr ? fill->constant()->to_doubles().at(0) : 0.0) + zero_.at(x);
    const std::string filled = short_name("pad");
    out_.add_constant(filled, Tensor::from(Shape{}, DataType::UInt8,
                                           std::vector{static_cast<std::uint8_t>(std::clamp(value, 0.0, 255.0))}));
    std::vector<std::string> inputs{renamed(x), input_name(*node.input(1)), filled};
    for (std::size_t i = 3; i < node.inputs().size(); ++i)
      inputs.push_back(node.input(i) == nullptr ? std::string() : input_name(*node.input(i)));
    Attributes attrs = node.attrs();
    out_.add_node("Pad", inputs, {renamed(node.output()->name())}, std::move(attrs), node.name());
    same_quantization(node.output()->name(), x);
    return "";
  }

  /// 8-bit value `to` holds `from`'s integers: same scale and zero point (constants shared).
  void same_quantization(const std::string& to, const std::string& from) {
    scale_[to] = scale_.at(from);
    zero_[to] = zero_.at(from);
    constants_.emplace(to, activation_constants(from));
  }

  /// A node of no 8-bit tensor (a float island's, shape arithmetic), as it is.
  std::string copy(const Node& node) {
    std::vector<std::string> inputs, outputs;
    for (const Value* in : node.inputs()) inputs.push_back(in == nullptr ? std::string() : input_name(*in));
    for (const Value* out : node.outputs()) outputs.push_back(renamed(out->name()));
    Attributes attrs = node.attrs();
    out_.add_node(node.op_type(), inputs, outputs, std::move(attrs), node.name());
    return "";
  }

  /// The QDQ graph's name for input `value`, a constant copied over on first use.
  std::string input_name(const Value& value) {
    return value.constant() != nullptr ? copied(value) : renamed(value.name());
  }

  const Graph& in_;
  double input_scale_;
  Graph out_;
  std::map<std::string, float> scale_;       // 8-bit value -> real value of one integer step
  std::map<std::string, std::uint8_t> zero_; // its uint8 zero point in the QDQ graph
  std::map<std::string, int> counters_;      // numbers the short names of each prefix
  std::set<const Node*> done_;               // nodes written as part of another's pattern
  std::map<std::string, std::string> float_; // int32 accumulator, sum, product -> its float twin
  std::map<std::string, std::pair<std::string, std::string>> constants_; // 8-bit value -> its scale, zero point
  std::map<std::string, std::string> names_;                             // integer-graph name -> QDQ-graph name
  std::map<std::string, std::string> shared_;                            // shared constant's base name -> its name
};

} // namespace

void to_qdq(Graph& graph, PassContext& context, const Options& options) {
  check(graph.meta().has(input_scale_key), "to_qdq needs a quantized graph: run quantize_network first");
  require_unprepared(graph, "to_qdq");
  const std::vector<Node*> nodes = graph.nodes();
  if (std::none_of(nodes.begin(), nodes.end(), [](const Node* n) { return n->op_type() == "Requantize"; }))
    cast_to_integer(graph, context, options);
  graph.infer_shapes();
  const double input_scale = std::stod(graph.meta().get<std::string>(input_scale_key));
  graph = QdqWriter(graph, input_scale).finish();
}

} // namespace tern::ptq
