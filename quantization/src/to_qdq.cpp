#include "to_qdq.hpp"

#include "cast_to_integer.hpp"
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
      return text + ". QDQ covers networks tern quantize casts to integer without --keep-float, except table "
                    "lookups, int32 products and Concats of differently scaled inputs";
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
    if (op == "Requantize" && in_.is_input(*x)) return quantize_input(node);
    // A pending affine node's Requantize and a residual Add's terms: written with the Add,
    // which comes later in the order.
    if (op == "Requantize" && pending_.contains(node.output()->name())) return "";
    if (op == "Requantize" && node.output()->dtype() == DataType::Int32 &&
        is_op(sole_reader(in_, *node.output()), "Add"))
      return "";
    if ((op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul") && is_8bit(x->dtype()))
      return affine(node);
    if (op == "Add" && x->dtype() == DataType::Int32) return add(node);
    if (op == "Requantize" && scale_.contains(x->name())) return requantize(node);
    if (op == "Resize" && node.attr<std::string>("mode") == "linear" && x != nullptr && scale_.contains(x->name()))
      return interpolate(node);
    static const std::set<std::string> byte_ops{"MaxPool",  "Reshape", "Flatten", "Squeeze", "Unsqueeze",
                                                "Identity", "Relu",    "Concat",  "Resize"};
    if (byte_ops.contains(op) && x != nullptr && scale_.contains(x->name())) return pass_through(node);
    // A table's output scale is baked into its values, so the file could not dequantize it.
    if (op == "TableLookup")
      return "a function tabulated on 8-bit integers (Sigmoid, HardSwish...) has no QDQ form yet";
    if (op == "Cast" && node.attr<std::string>("to") == "int32")
      return "an int32 product of two activations (squeeze-excitation, SiLU) has no QDQ form yet";
    return "no QDQ form for it here (it does not read a quantized tensor)";
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

  /// Tern's input scaling (x · input_scale) and the input's Requantize as one QuantizeLinear.
  std::string quantize_input(const Node& node) {
    const std::vector<double> factor = node.attr<std::vector<double>>("scale");
    if (factor.size() != 1) return "a per-channel input quantizer";
    quantize(node.input(0)->name(), node.output()->name(), static_cast<float>(1.0 / (input_scale_ * factor[0])),
             node.attr<std::int64_t>("lo"));
    return "";
  }

  /// Conv/ConvTranspose/Gemm/MatMul: requantized (one Requantize reads it) or the network's dequantized
  /// output (Cast to float32, then Mul by a constant). A requantized output read only by
  /// residual Adds waits for its Add, which ties its scale to the other operand's.
  std::string affine(const Node& node) {
    const Value& acc = *node.output();
    Node* reader = sole_reader(in_, acc);
    const Value* w = node.input(1);
    const Value* bias = node.op_type() == "MatMul" ? nullptr : node.input(2);
    if (w == nullptr || w->constant() == nullptr || (bias != nullptr && bias->constant() == nullptr))
      return "its weights and bias must be constants";
    if (!scale_.contains(node.input(0)->name())) return "its input comes from a node without a QDQ form";
    const float s_x = scale_.at(node.input(0)->name());
    if (is_op(reader, "Requantize") && write_pooling(node, *reader)) return "";
    if (is_op(reader, "Requantize")) {
      if (read_only_by_adds(*reader->output())) {
        pending_[reader->output()->name()] = &node;
        return "";
      }
      // y = round(acc · r) with r = s_x · s_w / s_y: any s_y will do; this one puts the
      // dequantized weights in [-1, 1].
      const std::vector<float> r = floats(reader->attr<std::vector<double>>("scale"));
      write_affine(node, s_x / (127.0f * *std::max_element(r.begin(), r.end())));
      return "";
    }
    const Node* mul = is_op(reader, "Cast") ? sole_reader(in_, *reader->output()) : nullptr;
    if (!is_op(mul, "Mul") || mul->input(1)->constant() == nullptr || !in_.is_output(*mul->output()))
      return "its int32 accumulator is read by neither one Requantize nor the output's dequantization";
    // The network's output: acc · rescale = acc · s_x · s_w.
    std::vector<float> s_w;
    for (const double f : mul->input(1)->constant()->to_doubles()) s_w.push_back(static_cast<float>(f) / s_x);
    emit_affine(node, s_w, mul->output()->name());
    done_.insert(reader);
    done_.insert(mul);
    return "";
  }

  /// cast_to_integer's average pooling (a depthwise Conv of int8 ones, then a Requantize of
  /// scale r = g / window) back as GlobalAveragePool or AveragePool between DequantizeLinear
  /// and QuantizeLinear: y = round(sum · r) = mean · window · r, so y_scale = x_scale /
  /// (window · r). False (nothing written) for any other Conv.
  bool write_pooling(const Node& node, const Node& requantize) {
    const Value& w = *node.input(1);
    const Shape& x = node.input(0)->shape();
    const std::vector<double> r = requantize.attr<std::vector<double>>("scale");
    if (node.op_type() != "Conv" || node.input(2) != nullptr || r.size() != 1 || x.rank() != 4 ||
        w.shape().rank() != 4 || w.shape()[1] != 1 || node.attr<std::int64_t>("group") != x[1] || w.shape()[0] != x[1])
      return false;
    const std::vector<double> ones = w.constant()->to_doubles();
    if (std::any_of(ones.begin(), ones.end(), [](double v) { return v != 1.0; })) return false;
    const std::int64_t window = w.shape()[2] * w.shape()[3];
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
    const float s_x = scale_.at(node.input(0)->name());
    quantize(mean, requantize.output()->name(), static_cast<float>(s_x / (static_cast<double>(window) * r[0])),
             requantize.attr<std::int64_t>("lo"));
    done_.insert(&requantize);
    return true;
  }

  bool read_only_by_adds(const Value& value) const {
    const std::vector<Node*> readers = in_.consumers(value);
    return !readers.empty() && !in_.is_output(value) && std::all_of(readers.begin(), readers.end(), [&](Node* r) {
      return is_op(r, "Requantize") && r->output()->dtype() == DataType::Int32 &&
             is_op(sole_reader(in_, *r->output()), "Add");
    });
  }

  /// A requantized affine node whose output gets scale `s_y`: s_w = r · s_y / s_x.
  void write_affine(const Node& node, float s_y) {
    const Node& requantize = *sole_reader(in_, *node.output());
    const float s_x = scale_.at(node.input(0)->name());
    std::vector<float> s_w;
    for (const float f : floats(requantize.attr<std::vector<double>>("scale"))) s_w.push_back(f * s_y / s_x);
    const std::string output = short_name("f");
    emit_affine(node, s_w, output);
    quantize(output, requantize.output()->name(), s_y, requantize.attr<std::int64_t>("lo"));
    done_.insert(&requantize);
  }

  /// The float affine node over dequantized input, weights (scale s_w per output channel)
  /// and bias (scale s_x · s_w), writing `output`.
  void emit_affine(const Node& node, const std::vector<float>& s_w, const std::string& output) {
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
      scale_[flat] = scale_.at(x);
      zero_[flat] = zero_.at(x);
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
  }

  /// The residual Add: Add(Requantize(a; c_a), Requantize(b; c_b)) read by Requantizes of
  /// scale r: y = round((a·c_a + b·c_b)·r), so y_scale = a_scale / (c_a·r).
  std::string add(const Node& node) {
    std::vector<const Node*> terms;
    for (const Value* in : node.inputs()) {
      const Node* term = in == nullptr ? nullptr : in->producer();
      if (!is_op(term, "Requantize") || sole_reader(in_, *in) != &node ||
          !(scale_.contains(term->input(0)->name()) || pending_.contains(term->input(0)->name())) ||
          term->attr<std::vector<double>>("scale").size() != 1)
        return "an Add that is not the integer residual sum cast_to_integer writes";
      terms.push_back(term);
    }
    const std::vector<Node*> readers = in_.consumers(*node.output());
    for (const Node* reader : readers)
      if (!is_op(reader, "Requantize") || reader->attr<std::vector<double>>("scale").size() != 1)
        return "its sum is read by something other than per-tensor Requantizes";
    if (readers.empty() || in_.is_output(*node.output())) return "its sum is a graph output";

    settle_operand_scales(*terms[0], *terms[1]);
    const std::string sum = short_name("f");
    out_.add_node("Add", {dequantized(terms[0]->input(0)->name()), dequantized(terms[1]->input(0)->name())}, {sum}, {},
                  node.name());
    const double c_a = terms[0]->attr<std::vector<double>>("scale")[0];
    for (const Node* reader : readers) {
      const double r = reader->attr<std::vector<double>>("scale")[0];
      quantize(sum, reader->output()->name(), static_cast<float>(scale_.at(terms[0]->input(0)->name()) / (c_a * r)),
               reader->attr<std::int64_t>("lo"));
      done_.insert(reader);
    }
    done_.insert(terms[0]);
    done_.insert(terms[1]);
    return "";
  }

  /// Operands a, b of a residual Add need a_scale / c_a = b_scale / c_b (c its term's
  /// factor). An operand still pending (an affine output only Adds read) takes the scale
  /// that makes it so; when both are, the first gets the usual choice.
  void settle_operand_scales(const Node& term_a, const Node& term_b) {
    const std::string& a = term_a.input(0)->name();
    const std::string& b = term_b.input(0)->name();
    const double c_a = term_a.attr<std::vector<double>>("scale")[0];
    const double c_b = term_b.attr<std::vector<double>>("scale")[0];
    if (pending_.contains(a) && pending_.contains(b)) {
      const Node& node = *pending_.at(a);
      const std::vector<float> r = floats(sole_reader(in_, *node.output())->attr<std::vector<double>>("scale"));
      write_affine(node, scale_.at(node.input(0)->name()) / (127.0f * *std::max_element(r.begin(), r.end())));
      pending_.erase(a);
    }
    if (pending_.contains(a)) {
      write_affine(*pending_.at(a), static_cast<float>(scale_.at(b) * c_a / c_b));
      pending_.erase(a);
    }
    if (pending_.contains(b)) {
      write_affine(*pending_.at(b), static_cast<float>(scale_.at(a) * c_b / c_a));
      pending_.erase(b);
    }
    const double ratio = scale_.at(a) / c_a / (scale_.at(b) / c_b);
    check(std::abs(ratio - 1.0) < 1e-4, [&] {
      return "cannot write QDQ: the operands of the Add reading '" + a + "' and '" + b +
             "' come with scales that no QDQ scale choice reconciles";
    });
  }

  /// A lone Requantize of an 8-bit tensor: y = round(x·c), so y_scale = x_scale / c.
  std::string requantize(const Node& node) {
    const std::vector<double> factor = node.attr<std::vector<double>>("scale");
    if (factor.size() != 1 || node.output()->dtype() == DataType::Int32) return "a per-channel or int32 Requantize";
    const std::string& x = node.input(0)->name();
    quantize(dequantized(x), node.output()->name(), static_cast<float>(scale_.at(x) / factor[0]),
             node.attr<std::int64_t>("lo"));
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
    if (std::any_of(all.begin() + 1, all.end(), [](const Value* in) { return in != nullptr && !in->constant(); }))
      return "a linear Resize whose scales or sizes are computed";
    const std::string& x = node.input(0)->name();
    std::vector<std::string> inputs{dequantized(x)};
    for (std::size_t i = 1; i < all.size(); ++i) inputs.push_back(all[i] == nullptr ? std::string() : copied(*all[i]));
    const std::string blend = short_name("f");
    Attributes attrs = node.attrs();
    out_.add_node("Resize", inputs, {blend}, std::move(attrs), node.name());
    quantize(blend, reader->output()->name(), scale_.at(x), reader->attr<std::int64_t>("lo"));
    done_.insert(reader);
    return "";
  }

  /// Ops that move or compare 8-bit values keep them, scale and type included.
  std::string pass_through(const Node& node) {
    const std::string& first = node.input(0)->name();
    std::vector<std::string> inputs;
    for (const Value* in : node.inputs()) {
      if (in == nullptr) {
        inputs.emplace_back();
      } else if (in->constant() != nullptr) {
        inputs.push_back(copied(*in));
      } else {
        if (!scale_.contains(in->name()) || scale_.at(in->name()) != scale_.at(first) ||
            zero_.at(in->name()) != zero_.at(first))
          return "its inputs have different scales or zero points";
        inputs.push_back(renamed(in->name()));
      }
    }
    std::vector<std::string> outputs;
    for (const Value* out : node.outputs()) outputs.push_back(renamed(out->name()));
    Attributes attrs = node.attrs();
    out_.add_node(node.op_type(), inputs, outputs, std::move(attrs), node.name());
    scale_[node.output()->name()] = scale_.at(first);
    zero_[node.output()->name()] = zero_.at(first);
    constants_.emplace(node.output()->name(), activation_constants(first));
    return "";
  }

  const Graph& in_;
  double input_scale_;
  Graph out_;
  std::map<std::string, float> scale_;         // 8-bit value -> real value of one integer step
  std::map<std::string, std::uint8_t> zero_;   // its uint8 zero point in the QDQ graph
  std::map<std::string, int> counters_;        // numbers the short names of each prefix
  std::set<const Node*> done_;                 // nodes written as part of another's pattern
  std::map<std::string, const Node*> pending_; // affine outputs waiting for their Add's scale
  std::map<std::string, std::pair<std::string, std::string>> constants_; // 8-bit value -> its scale, zero point
  std::map<std::string, std::string> names_;                             // integer-graph name -> QDQ-graph name
  std::map<std::string, std::string> shared_;                            // shared constant's base name -> its name
};

} // namespace

void to_qdq(Graph& graph, PassContext& context, const Options& options) {
  check(graph.meta().has(input_scale_key), "to_qdq needs a quantized graph: run quantize_network first");
  const std::vector<Node*> nodes = graph.nodes();
  if (std::none_of(nodes.begin(), nodes.end(), [](const Node* n) { return n->op_type() == "Requantize"; }))
    cast_to_integer(graph, context, options);
  graph.infer_shapes();
  const double input_scale = std::stod(graph.meta().get<std::string>(input_scale_key));
  graph = QdqWriter(graph, input_scale).finish();
}

} // namespace tern::ptq
