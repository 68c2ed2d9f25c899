#include "emit.hpp"

#include <tern/arena_plan.hpp>
#include <tern/error.hpp>
#include <tern/version.hpp>
#include <tern/window.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace tern::export_c {

extern const std::string_view kernels_source; // c/kernels.c, embedded at build time

namespace {

/// Activations must be 4-byte aligned for the int32 ones; the header tells the caller.
constexpr std::size_t arena_alignment = 4;

/// The sections of c/kernels.c ("/*@ name */" up to the next marker), in file order.
std::vector<std::pair<std::string, std::string_view>> kernel_sections() {
  std::vector<std::pair<std::string, std::string_view>> sections;
  const std::string_view text = kernels_source;
  for (std::size_t at = text.find("/*@ "); at != std::string_view::npos;) {
    const std::size_t name_end = text.find(" */", at);
    const std::size_t body = text.find('\n', name_end) + 1;
    const std::size_t next = text.find("/*@ ", body);
    sections.emplace_back(std::string(text.substr(at + 4, name_end - at - 4)),
                          text.substr(body, (next == std::string_view::npos ? text.size() : next) - body));
    at = next;
  }
  return sections;
}

/// The sections each kernel section needs besides itself ("common" is always written).
const std::map<std::string, std::vector<std::string>>& section_needs() {
  static const std::map<std::string, std::vector<std::string>> needs{{"conv", {"requant", "access", "affine"}},
                                                                     {"gemm", {"requant", "access", "affine"}},
                                                                     {"maxpool", {"access"}},
                                                                     {"requantize", {"requant", "access"}},
                                                                     {"relu", {"access"}},
                                                                     {"cast", {"access"}},
                                                                     {"add", {}},
                                                                     {"concat", {}},
                                                                     {"input", {}}};
  return needs;
}

const char* c_type_code(DataType type) {
  switch (type) {
  case DataType::Int8: return "TERN_S8";
  case DataType::UInt8: return "TERN_U8";
  case DataType::Int32: return "TERN_S32";
  default: throw Error("C export: no C activation type for " + std::string(name(type)));
  }
}

const char* c_type_name(DataType type) {
  switch (type) {
  case DataType::Int8: return "int8_t";
  case DataType::UInt8: return "uint8_t";
  default: return "int32_t";
  }
}

/// A float literal that reads back as exactly `value` (C99 hexadecimal).
std::string float_literal(float value) {
  char text[64];
  std::snprintf(text, sizeof text, "%af", static_cast<double>(value));
  return text;
}

/// Text safe inside a C comment.
std::string comment_text(std::string text) {
  for (std::size_t at = text.find("*/"); at != std::string::npos; at = text.find("*/", at)) text.replace(at, 2, "* /");
  return text;
}

std::int64_t numel(const Value& value) { return value.shape().numel(); }

template <class T> void write_values(std::ostream& out, const std::vector<T>& values) {
  for (std::size_t i = 0; i < values.size(); ++i)
    out << (i % 16 == 0 ? "\n  " : " ") << static_cast<std::int64_t>(values[i]) << (i + 1 < values.size() ? "," : "");
  out << "\n";
}

/// Writes NAME.c's body, NAME_weights.c's arrays and the manifest's steps as it goes.
class Writer {
public:
  Writer(const Program& program, const EmitOptions& options)
      : name_(options.name), arena_(plan_arena(program.graph, arena_alignment)) {}

  std::size_t arena_bytes() const { return arena_.bytes; }
  std::size_t weight_bytes() const { return weight_bytes_; }

  /// Pointer expression of a computed value inside the arena.
  std::string at(const Value& value) const {
    const auto it = arena_.offsets.find(value.name());
    check(it != arena_.offsets.end(), [&] { return "C export: value '" + value.name() + "' has no arena place"; });
    return "(a + " + std::to_string(it->second) + ")";
  }

  /// A weight constant in NAME_weights.c (int8, packed int4 when every value fits, int32).
  /// Returns its symbol and the C type code of its elements.
  std::pair<std::string, std::string> constant(const Value& value) {
    const Tensor& tensor = *value.constant();
    const std::string symbol = name_ + "_c" + std::to_string(constants_++);
    std::ostringstream& out = weights_;
    out << "/* '" << comment_text(value.name()) << "' " << tensor.shape().to_string() << " */\n";
    const std::vector<double> values = tensor.to_doubles();
    if (tensor.dtype() == DataType::Int32) {
      declare(out, "int32_t", symbol, values.size());
      write_values(out, values);
      weight_bytes_ += values.size() * 4;
      out << "};\n\n";
      return {symbol, "TERN_S32"};
    }
    check(tensor.dtype() == DataType::Int8, [&] {
      return "C export: constant '" + value.name() + "' is " + std::string(name(tensor.dtype())) +
             ", expected int8 weights or int32 biases";
    });
    const bool int4 = std::all_of(values.begin(), values.end(), [](double v) { return v >= -8 && v <= 7; });
    if (!int4) {
      declare(out, "int8_t", symbol, values.size());
      write_values(out, values);
      weight_bytes_ += values.size();
      out << "};\n\n";
      return {symbol, "TERN_S8"};
    }
    std::vector<std::uint8_t> packed((values.size() + 1) / 2, 0);
    for (std::size_t i = 0; i < values.size(); ++i)
      packed[i / 2] |= static_cast<std::uint8_t>((static_cast<int>(values[i]) & 15) << (i % 2 ? 4 : 0));
    out << "/* int4, two per byte, low nibble first */\n";
    declare(out, "uint8_t", symbol, packed.size());
    write_values(out, packed);
    weight_bytes_ += packed.size();
    out << "};\n\n";
    return {symbol, "TERN_S4"};
  }

  /// A tern_requant from attributes `<prefix>scale`, ...; "NULL" when absent.
  std::string requant(const Node& node, const std::string& prefix) {
    if (!node.attrs().has(prefix + "scale")) return "NULL";
    const std::string symbol = name_ + "_r" + std::to_string(requants_++);
    std::vector<std::int64_t> m, e;
    for (const double scale : node.attr<std::vector<double>>(prefix + "scale")) {
      const auto s = static_cast<float>(scale);
      check(std::isfinite(s) && s >= 0.0f, [&] {
        return "C export: node '" + node.name() + "' (" + node.op_type() + ") has the scale " + std::to_string(scale) +
               "; only finite non-negative scales are exported";
      });
      int exponent = 0;
      const float significand = std::frexp(s, &exponent);
      m.push_back(static_cast<std::int64_t>(std::ldexp(significand, 24)));
      e.push_back(s == 0.0f ? 0 : exponent - 24);
    }
    std::ostringstream& out = constants_text_;
    out << "static const int32_t " << symbol << "_m[" << m.size() << "] = {";
    write_values(out, m);
    out << "};\nstatic const int32_t " << symbol << "_e[" << e.size() << "] = {";
    write_values(out, e);
    const auto to = parse_data_type(node.attr<std::string>(prefix + "to"));
    check(to.has_value(), [&] { return "C export: node '" + node.name() + "' has an unknown '" + prefix + "to'"; });
    out << "};\nstatic const tern_requant " << symbol << " = {" << symbol << "_m, " << symbol << "_e, " << m.size()
        << ", " << node.attr<std::int64_t>(prefix + "lo") << ", " << node.attr<std::int64_t>(prefix + "hi") << ", "
        << c_type_code(*to) << "};\n";
    return "&" + symbol;
  }

  void step(const Node& node) {
    const std::string& op = node.op_type();
    body_ << "  /* '" << comment_text(node.name()) << "' (" << op << ") -> " << node.output()->shape().to_string()
          << " " << name(node.output()->dtype()) << " */\n";
    if (op == "Conv")
      conv(node);
    else if (op == "Gemm" || op == "MatMul")
      gemm(node);
    else if (op == "MaxPool")
      maxpool(node);
    else if (op == "Requantize")
      requantize(node);
    else if (op == "Add") {
      use("add");
      body_ << "  tern_add((const int32_t *)" << at(*node.input(0)) << ", (const int32_t *)" << at(*node.input(1))
            << ", " << numel(*node.output()) << ", (int32_t *)" << at(*node.output()) << ");\n";
    } else if (op == "Relu") {
      use("relu");
      body_ << "  tern_relu(" << at(*node.input(0)) << ", " << c_type_code(node.input(0)->dtype()) << ", "
            << numel(*node.output()) << ", " << at(*node.output()) << ");\n";
    } else if (op == "Cast") {
      use("cast");
      body_ << "  tern_cast(" << at(*node.input(0)) << ", " << c_type_code(node.input(0)->dtype()) << ", "
            << numel(*node.output()) << ", " << at(*node.output()) << ", TERN_S32);\n";
    } else if (op == "Concat")
      concat(node);
    else // Reshape, Flatten, Squeeze, Unsqueeze, Identity: the same bytes
      body_ << "  memcpy(" << at(*node.output()) << ", " << at(*node.input(0)) << ", "
            << numel(*node.output()) * static_cast<std::int64_t>(info(node.output()->dtype()).size) << ");\n";
  }

  void use(const std::string& section) {
    used_.insert(section);
    for (const std::string& need : section_needs().at(section)) used_.insert(need);
  }

  std::string kernels() const {
    std::string text;
    for (const auto& [section, code] : kernel_sections())
      if (section == "common" || used_.contains(section)) text += code;
    return text;
  }
  std::string constants_text() const { return constants_text_.str(); }
  std::string body() const { return body_.str(); }
  std::string weights() const { return weights_.str(); }
  std::string weight_declarations() const { return declarations_.str(); }

private:
  void declare(std::ostream& out, const std::string& type, const std::string& symbol, std::size_t count) {
    out << "const " << type << " " << symbol << "[" << count << "] = {";
    declarations_ << "extern const " << type << " " << symbol << "[" << count << "];\n";
  }

  /// Pointer (and C type code) of a constant input, or "NULL".
  std::pair<std::string, std::string> optional_constant(const Value* value) {
    if (value == nullptr) return {"NULL", ""};
    return constant(*value);
  }

  void window_fields(const Node& node, const Shape& x, const std::vector<std::int64_t>& kernel) {
    const Window w = resolve_window(node, x, kernel);
    const Shape& y = node.output()->shape();
    body_ << y[2] << ", " << y[3] << ", " << w.kernel[0] << ", " << w.kernel[1] << ", " << w.strides[0] << ", "
          << w.strides[1] << ", " << w.dilations[0] << ", " << w.dilations[1] << ", " << w.pads_begin[0] << ", "
          << w.pads_begin[1];
  }

  void conv(const Node& node) {
    use("conv");
    const Shape& x = node.input(0)->shape();
    const Shape& w = node.input(1)->shape();
    const auto [weights, w_type] = constant(*node.input(1));
    const std::string bias = optional_constant(node.input(2)).first;
    const std::string r = requant(node, "requantize_");
    body_ << "  {\n    static const tern_conv_shape s = {" << x[1] << ", " << x[2] << ", " << x[3] << ", " << w[0]
          << ", ";
    window_fields(node, x, {w[2], w[3]});
    body_ << ", " << node.attr<std::int64_t>("group") << ", " << c_type_code(node.input(0)->dtype()) << ", " << w_type
          << "};\n    tern_conv(&s, " << at(*node.input(0)) << ", " << weights << ", " << bias << ", " << r << ", "
          << at(*node.output()) << ");\n  }\n";
  }

  void gemm(const Node& node) {
    use("gemm");
    const Shape& w = node.input(1)->shape();
    const bool trans = node.op_type() == "Gemm" && node.attr<std::int64_t>("transB") != 0;
    const std::int64_t k = trans ? w[1] : w[0], n = trans ? w[0] : w[1];
    const auto [weights, w_type] = constant(*node.input(1));
    const std::string bias = node.op_type() == "Gemm" ? optional_constant(node.input(2)).first : "NULL";
    const std::string r = requant(node, "requantize_");
    body_ << "  {\n    static const tern_gemm_shape s = {" << numel(*node.input(0)) / k << ", " << k << ", " << n
          << ", " << (trans ? 1 : 0) << ", " << c_type_code(node.input(0)->dtype()) << ", " << w_type
          << "};\n    tern_gemm(&s, " << at(*node.input(0)) << ", " << weights << ", " << bias << ", " << r << ", "
          << at(*node.output()) << ");\n  }\n";
  }

  void maxpool(const Node& node) {
    use("maxpool");
    const Shape& x = node.input(0)->shape();
    body_ << "  {\n    static const tern_pool_shape s = {" << x[1] << ", " << x[2] << ", " << x[3] << ", ";
    window_fields(node, x, node.attr<std::vector<std::int64_t>>("kernel_shape"));
    body_ << ", " << c_type_code(node.input(0)->dtype()) << "};\n    tern_maxpool(&s, " << at(*node.input(0)) << ", "
          << at(*node.output()) << ");\n  }\n";
  }

  void requantize(const Node& node) {
    use("requantize");
    const Shape& x = node.input(0)->shape();
    std::int64_t channels = 1, inner = 1;
    if (node.attr<std::vector<double>>("scale").size() > 1) {
      auto axis = node.attr<std::int64_t>("axis");
      if (axis < 0) axis += static_cast<std::int64_t>(x.rank());
      channels = x[static_cast<std::size_t>(axis)];
      for (std::size_t d = static_cast<std::size_t>(axis) + 1; d < x.rank(); ++d) inner *= x[d];
    }
    const std::string r = requant(node, "");
    body_ << "  tern_requantize_tensor(" << at(*node.input(0)) << ", " << c_type_code(node.input(0)->dtype()) << ", "
          << x.numel() / (channels * inner) << ", " << channels << ", " << inner << ", " << r << ", "
          << at(*node.output()) << ");\n";
  }

  void concat(const Node& node) {
    use("concat");
    const Shape& y = node.output()->shape();
    auto axis = node.attr<std::int64_t>("axis");
    if (axis < 0) axis += static_cast<std::int64_t>(y.rank());
    const auto element = static_cast<std::int64_t>(info(node.output()->dtype()).size);
    std::int64_t outer = 1, stride = element;
    for (std::size_t d = 0; d < y.rank(); ++d) (static_cast<std::int64_t>(d) < axis ? outer : stride) *= y[d];
    std::int64_t offset = 0;
    for (const Value* in : node.inputs()) {
      const std::int64_t bytes = numel(*in) / outer * element;
      body_ << "  tern_concat_part(" << at(*in) << ", " << outer << ", " << bytes << ", " << stride << ", "
            << at(*node.output()) << " + " << offset << ");\n";
      offset += bytes;
    }
  }

  std::string name_;
  ArenaPlan arena_;
  std::set<std::string> used_;
  std::ostringstream body_, weights_, declarations_, constants_text_;
  std::size_t constants_ = 0, requants_ = 0, weight_bytes_ = 0;
};

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  check(static_cast<bool>(out), [&] { return "C export: cannot write " + path.string(); });
}

std::string header(const Program& program, const EmitOptions& o, const std::string& banner, std::size_t arena) {
  const std::string n = o.name, N = upper(o.name);
  std::ostringstream h;
  h << banner << "#ifndef " << N << "_H\n#define " << N << "_H\n\n#include <stdint.h>\n\n"
    << "#define " << N << "_INPUT_SIZE  " << program.int_input->shape().numel() << "   /* elements of one input sample "
    << program.graph.inputs()[0]->shape().to_string() << " */\n"
    << "#define " << N << "_OUTPUT_SIZE " << program.int_output->shape().numel() << "   /* elements of one output "
    << program.int_output->shape().to_string() << " */\n"
    << "#define " << N << "_ARENA_SIZE  " << arena
    << "   /* bytes of scratch the caller provides, aligned to 4 bytes */\n\n"
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "/* The integer network: the scaled, rounded int8 input -> the output accumulator. Returns 0\n"
    << "   (-1 for a NULL argument). Reentrant: all state lives in `arena`. */\n"
    << "int " << n << "_run_int(const int8_t *input, int32_t *output, void *arena);\n"
    << "/* Float in -> float out: the input scaling, " << n << "_run_int, the output dequantisation. */\n"
    << "int " << n << "_run(const float *input, float *output, void *arena);\n\n"
    << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return h.str();
}

std::string run_functions(const Program& program, const EmitOptions& o, const Writer& writer) {
  const std::string n = o.name, N = upper(o.name);
  const Value& out = *program.int_output;
  const std::string out_type = c_type_name(out.dtype());
  std::ostringstream c;
  c << "int " << n << "_run_int(const int8_t *input, int32_t *output, void *arena) {\n"
    << "  uint8_t *a = (uint8_t *)arena;\n  if (input == NULL || output == NULL || arena == NULL) return -1;\n"
    << "  memcpy(" << writer.at(*program.int_input) << ", input, " << N << "_INPUT_SIZE);\n  " << n << "_body(a);\n";
  if (out.dtype() == DataType::Int32)
    c << "  memcpy(output, " << writer.at(out) << ", " << N << "_OUTPUT_SIZE * sizeof(int32_t));\n";
  else
    c << "  tern_cast(" << writer.at(out) << ", " << c_type_code(out.dtype()) << ", " << N
      << "_OUTPUT_SIZE, output, TERN_S32);\n";
  c << "  return 0;\n}\n\n";

  const Node& q = *program.input_quantizer;
  const std::vector<double> q_scale = q.attr<std::vector<double>>("scale");
  check(q_scale.size() == 1, "C export: the input's Requantize must have one scale");
  c << "int " << n << "_run(const float *input, float *output, void *arena) {\n"
    << "  uint8_t *a = (uint8_t *)arena;\n  int32_t i;\n"
    << "  if (input == NULL || output == NULL || arena == NULL) return -1;\n"
    << "  tern_quantize_input(input, " << N << "_INPUT_SIZE, " << float_literal(o.input.scale) << ", "
    << float_literal(o.input.limit) << ", " << (o.input.round ? 1 : 0) << ", " << q.attr<std::int64_t>("lo") << ", "
    << q.attr<std::int64_t>("hi") << ", " << float_literal(static_cast<float>(q_scale[0])) << ", (int8_t *)"
    << writer.at(*program.int_input) << ");\n  " << n << "_body(a);\n"
    << "  for (i = 0; i < " << N << "_OUTPUT_SIZE; ++i)\n    output[i] = (float)((const " << out_type << " *)"
    << writer.at(out) << ")[i]";
  if (program.output_scale.size() == 1) c << " * " << float_literal(program.output_scale[0]);
  if (program.output_scale.size() > 1)
    c << " * " << n << "_output_scale[(i / " << program.output_inner << ") % " << program.output_scale.size() << "]";
  c << ";\n  return 0;\n}\n";
  return c.str();
}

} // namespace

void emit(const Program& program, const EmitOptions& options, const std::filesystem::path& dir) {
  Writer writer(program, options);
  writer.use("input");
  if (program.int_output->dtype() != DataType::Int32) writer.use("cast");
  nlohmann::json steps = nlohmann::json::array();
  for (const Node* node : program.steps) {
    writer.step(*node);
    steps.push_back({{"node", node->name()}, {"op", node->op_type()}, {"output", node->output()->shape().dims()}});
  }
  const std::string n = options.name;
  const std::string banner = "/* " + n + ": " + comment_text(options.source) + ", exported by Tern " +
                             TERN_VERSION_STRING + " (tern export --target c). Do not edit: export again. */\n";

  std::ostringstream c;
  c << banner << "#include \"" << n << ".h\"\n\n#include <stddef.h>\n#include <string.h>\n\n"
    << writer.kernels() << "\n/* Weights: " << n << "_weights.c */\n"
    << writer.weight_declarations() << "\n/* Requantization scales: significand and power of two */\n"
    << writer.constants_text();
  if (program.output_scale.size() > 1) {
    c << "static const float " << n << "_output_scale[" << program.output_scale.size() << "] = {";
    for (std::size_t i = 0; i < program.output_scale.size(); ++i)
      c << (i ? ", " : "") << float_literal(program.output_scale[i]);
    c << "};\n";
  }
  c << "\n/* The network, one step per node; activations at offsets from Tern's memory plan. */\n"
    << "static void " << n << "_body(uint8_t *a) {\n"
    << writer.body() << "}\n\n"
    << run_functions(program, options, writer);

  std::filesystem::create_directories(dir);
  write_file(dir / (n + ".h"), header(program, options, banner, writer.arena_bytes()));
  write_file(dir / (n + ".c"), c.str());
  write_file(dir / (n + "_weights.c"), banner + "#include <stdint.h>\n\n" + writer.weights());
  const nlohmann::json manifest{{"name", n},
                                {"source", options.source},
                                {"files", {n + ".h", n + ".c", n + "_weights.c"}},
                                {"input_size", program.int_input->shape().numel()},
                                {"output_size", program.int_output->shape().numel()},
                                {"arena_bytes", writer.arena_bytes()},
                                {"weight_bytes", writer.weight_bytes()},
                                {"steps", steps}};
  write_file(dir / (n + ".json"), manifest.dump(2) + "\n");
}

} // namespace tern::export_c
