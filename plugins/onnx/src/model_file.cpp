#include "model_file.hpp"

#include "errors.hpp"
#include "tensor_proto.hpp"

#include <tern/checked_math.hpp>

#include <onnx/checker.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

namespace tern::onnx_plugin {
namespace {

namespace fs = std::filesystem;

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

std::string read_bytes(const fs::path& path) {
  std::error_code error;
  check(fs::is_regular_file(path, error), "not a valid ONNX model: no such file");
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "cannot open the file for reading");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::move(bytes).str();
}

/// What a file that is not a ModelProto is instead, when its first bytes tell: protobuf
/// cannot say why bytes do not parse, and "it is a PNG image" is the useful answer.
std::string sniff_other_format(std::string_view bytes) {
  struct Magic {
    std::string_view prefix;
    const char* what;
  };
  static constexpr std::array magics{
      Magic{"\x89PNG\r\n\x1a\n", "it is a PNG image"},
      Magic{"PK\x03\x04", "it is a zip archive (unpack it first)"},
      Magic{"\x1f\x8b", "it is gzip-compressed (decompress it first)"},
      Magic{"\xff\xd8\xff", "it is a JPEG image"},
      Magic{"%PDF", "it is a PDF document"},
      Magic{"\x7f"
            "ELF",
            "it is an ELF binary"},
  };
  for (const Magic& magic : magics)
    if (bytes.starts_with(magic.prefix)) return magic.what;
  return {};
}

onnx::ModelProto parse(const std::string& bytes) {
  const std::string invalid = "not a valid ONNX model: ";
  check(!bytes.empty(), [&] { return invalid + "the file is empty"; });
  const std::string other = sniff_other_format(bytes);
  check(other.empty(), [&] { return invalid + other; });
  onnx::ModelProto model;
  check(model.ParseFromString(bytes), [&] {
    return invalid + "the " + std::to_string(bytes.size()) +
           " bytes do not parse as a protobuf ModelProto (the file is truncated or in another format)";
  });
  // Arbitrary bytes sometimes parse as a message of unknown fields: require the essentials.
  check(model.has_graph() && model.ir_version() > 0,
        [&] { return invalid + "it parses as protobuf but has no " + (model.has_graph() ? "ir_version" : "graph"); });
  return model;
}

/// The default domain's opset must be one Tern normalises; nodes of other domains
/// (contrib ops, model-local functions) have no Tern meaning.
void check_opsets(const onnx::ModelProto& model) {
  bool has_default = false;
  for (const onnx::OperatorSetIdProto& opset : model.opset_import()) {
    if (!is_default_domain(opset.domain())) continue;
    has_default = true;
    check(opset.version() >= min_opset && opset.version() <= max_opset, [&] {
      return "uses opset " + std::to_string(opset.version()) + " of the default ONNX domain; Tern reads opsets " +
             std::to_string(min_opset) + " to " + std::to_string(max_opset) +
             (opset.version() > max_opset ? " (ONNX 1.12)" : " (convert the model to a newer opset first)");
    });
  }
  check(has_default, "imports no opset of the default ONNX domain");
  for (const onnx::NodeProto& node : model.graph().node())
    check(is_default_domain(node.domain()), [&] {
      return describe_node(node) + " is in domain '" + node.domain() + "'; Tern reads only the default ONNX domain";
    });
}

/// The value of external-data entry `key` as a non-negative int64, or a one-line error.
std::int64_t external_number(const std::string& text, const std::string& key, const std::string& what) {
  std::int64_t value = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  check(error == std::errc() && end == text.data() + text.size() && value >= 0,
        [&] { return what + ": its external-data '" + key + "' is not a non-negative integer that fits int64"; });
  return value;
}

/// The bytes `tensor`'s dims and data type call for, when Tern knows the type and the
/// count fits int64; nullopt otherwise (the reader then only bounds what it reads).
std::optional<std::int64_t> declared_bytes(const onnx::TensorProto& tensor) {
  const std::optional<DataType> type = onnx_io::from_onnx_type(tensor.data_type());
  const std::vector<std::int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  if (!type || std::ranges::any_of(dims, [](std::int64_t dim) { return dim < 0; })) return std::nullopt;
  const std::optional<std::int64_t> count = try_element_count(dims);
  return count ? try_mul(*count, static_cast<std::int64_t>(size_of(*type))) : std::nullopt;
}

/// Replaces an external-data reference by the bytes it names, read from a file inside the
/// model's folder (after resolving '..' and symlinks: a model cannot pull in any other
/// file). Only the in-memory copy changes; the model file is never written.
void inline_external_data(onnx::TensorProto& tensor, const fs::path& folder) {
  if (tensor.data_location() != onnx::TensorProto::EXTERNAL) return;
  const std::string what = "tensor '" + tensor.name() + "'";
  std::string location;
  std::int64_t offset = 0;
  std::optional<std::int64_t> length;
  for (const onnx::StringStringEntryProto& entry : tensor.external_data()) {
    if (entry.key() == "location") location = entry.value();
    if (entry.key() == "offset") offset = external_number(entry.value(), "offset", what);
    if (entry.key() == "length") length = external_number(entry.value(), "length", what);
  }
  check(!location.empty(), [&] { return what + " is marked as external data but names no file (no 'location' key)"; });
  check(fs::path(location).is_relative(), [&] {
    return what + " names the external data file '" + location +
           "' by an absolute path; ONNX requires a path relative to the model";
  });
  std::error_code error;
  const fs::path root = fs::weakly_canonical(folder.empty() ? fs::path(".") : folder, error);
  const fs::path file = fs::weakly_canonical(root / location, error);
  const bool inside = std::mismatch(root.begin(), root.end(), file.begin(), file.end()).first == root.end();
  check(inside && file != root, [&] {
    return what + " names the external data file '" + location + "', which resolves to " + file.string() +
           ", outside the model's folder " + root.string() + ": external data must lie beside the model";
  });
  check(fs::is_regular_file(file, error), [&] {
    return what + " keeps its data in external file '" + location + "', which is missing (looked for " + file.string() +
           ")";
  });
  const auto size = static_cast<std::int64_t>(fs::file_size(file));
  check(offset <= size && (!length || *length <= size - offset), [&] {
    return what + " reads " + (length ? std::to_string(*length) : std::string("the")) + " bytes from offset " +
           std::to_string(offset) + " of external file '" + location + "', which has only " + std::to_string(size);
  });
  const std::int64_t count = length ? *length : size - offset;
  // Sizes are compared before anything is allocated: a few bytes of model must not make
  // Tern allocate gigabytes.
  const std::optional<std::int64_t> needed = declared_bytes(tensor);
  check(!needed || count == *needed, [&] {
    return what + " reads " + std::to_string(count) + " bytes from external file '" + location +
           "', but its dims and data type call for " + std::to_string(*needed);
  });
  const std::int64_t ceiling = max_tensor_bytes();
  check(count <= ceiling, [&] {
    return what + " reads " + std::to_string(count) + " bytes from external file '" + location +
           "', over the limit of " + std::to_string(ceiling) + " bytes per tensor (TERN_MAX_TENSOR_BYTES)";
  });
  std::ifstream in(file, std::ios::binary);
  std::string data(static_cast<std::size_t>(count), '\0');
  in.seekg(offset);
  in.read(data.data(), count);
  check(in.good(), [&] { return what + ": cannot read external file '" + file.string() + "'"; });
  tensor.set_raw_data(std::move(data));
  tensor.clear_external_data();
  tensor.set_data_location(onnx::TensorProto::DEFAULT);
}

void inline_all_external_data(onnx::ModelProto& model, const fs::path& folder) {
  onnx::GraphProto& graph = *model.mutable_graph();
  for (onnx::TensorProto& tensor : *graph.mutable_initializer()) inline_external_data(tensor, folder);
  for (onnx::NodeProto& node : *graph.mutable_node())
    for (onnx::AttributeProto& attribute : *node.mutable_attribute())
      if (attribute.has_t()) inline_external_data(*attribute.mutable_t(), folder);
}

} // namespace

onnx::ModelProto read_model(const fs::path& path) {
  onnx::ModelProto model = parse(read_bytes(path));
  check_opsets(model);
  inline_all_external_data(model, path.parent_path());
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& error) {
    throw Error(std::string("fails the ONNX checker: ") + error.what());
  }
  return model;
}

std::int64_t default_opset(const onnx::ModelProto& model) {
  for (const onnx::OperatorSetIdProto& opset : model.opset_import())
    if (is_default_domain(opset.domain())) return opset.version();
  throw Error("imports no opset of the default ONNX domain");
}

void write_model(const onnx::ModelProto& model, const fs::path& path) {
  std::string bytes;
  check(model.SerializeToString(&bytes), "cannot serialize the model (is it over 2 GB?)");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  check(out.good(), "cannot open the file for writing");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  check(out.good(), "cannot write the model");
}

} // namespace tern::onnx_plugin
