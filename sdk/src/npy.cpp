// NPY format: "\x93NUMPY", major, minor, header length (2 bytes in 1.0, 4 in 2.0/3.0),
// then a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, ...), }.
#include <tern/npy.hpp>

#include "file_bytes.hpp"

#include <cstring>
#include <fstream>
#include <regex>

namespace tern {
namespace {

constexpr char magic[] = "\x93NUMPY";
constexpr std::size_t magic_size = 6;

struct Descr {
  const char* text;
  DataType dtype;
};
// '|' marks single-byte types, where byte order does not apply.
constexpr Descr descrs[] = {{"<f4", DataType::Float32}, {"<f8", DataType::Float64}, {"|i1", DataType::Int8},
                            {"|u1", DataType::UInt8},   {"<i2", DataType::Int16},   {"<i4", DataType::Int32},
                            {"<i8", DataType::Int64},   {"|b1", DataType::Bool}};

std::string header_field(const std::string& header, const std::string& key, const std::string& pattern,
                         const std::string& where) {
  std::smatch match;
  const std::regex field("'" + key + "'\\s*:\\s*" + pattern);
  check(std::regex_search(header, match, field),
        [&] { return where + "the header has no valid '" + key + "' entry: " + header; });
  return match[1].str();
}

} // namespace

Tensor read_npy(const std::filesystem::path& path) {
  const std::string bytes = detail::read_file_bytes(path);
  const std::string where = path.string() + ": ";
  check(bytes.size() >= 10 && bytes.compare(0, magic_size, magic, magic_size) == 0,
        [&] { return where + "not a NumPy .npy file (wrong magic bytes)"; });
  const auto major = static_cast<unsigned char>(bytes[6]);
  check(major >= 1 && major <= 3, [&] { return where + "unsupported .npy format version " + std::to_string(major); });
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  check(bytes.size() >= 8 + length_bytes, [&] { return where + "truncated header"; });
  std::size_t header_length = 0;
  for (std::size_t i = 0; i < length_bytes; ++i)
    header_length |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  const std::size_t data_offset = 8 + length_bytes + header_length;
  check(bytes.size() >= data_offset, [&] { return where + "truncated header"; });
  const std::string header = bytes.substr(8 + length_bytes, header_length);

  const std::string descr = header_field(header, "descr", "'([^']*)'", where);
  const DataType* dtype = nullptr;
  for (const Descr& known : descrs)
    if (descr == known.text) dtype = &known.dtype;
  check(dtype != nullptr, [&] {
    return where + "unsupported dtype '" + descr + "' (supported: <f4 <f8 |i1 |u1 <i2 <i4 <i8 |b1, little-endian)";
  });
  check(header_field(header, "fortran_order", "(True|False)", where) == "False",
        [&] { return where + "Fortran-ordered arrays are not supported: save with np.ascontiguousarray"; });
  std::vector<std::int64_t> dims;
  const std::string shape_text = header_field(header, "shape", "\\(([^)]*)\\)", where);
  const std::regex number("\\d+");
  for (auto it = std::sregex_iterator(shape_text.begin(), shape_text.end(), number); it != std::sregex_iterator(); ++it)
    dims.push_back(std::stoll(it->str()));

  Tensor tensor(Shape(dims), *dtype);
  check(bytes.size() - data_offset == tensor.bytes(), [&] {
    return where + "holds " + std::to_string(bytes.size() - data_offset) + " data bytes, shape " +
           tensor.shape().to_string() + " of " + std::string(name(*dtype)) + " needs " +
           std::to_string(tensor.bytes()) + " (truncated?)";
  });
  std::memcpy(tensor.raw(), bytes.data() + data_offset, tensor.bytes());
  return tensor;
}

void write_npy(const Tensor& tensor, const std::filesystem::path& path) {
  const Tensor host = tensor.backend().host_accessible() ? tensor : tensor.to(host_backend());
  DataType stored = host.dtype();
  if (stored == DataType::Int4) stored = DataType::Int8;
  if (stored == DataType::UInt4) stored = DataType::UInt8;
  const char* descr = nullptr;
  for (const Descr& known : descrs)
    if (known.dtype == stored) descr = known.text;
  std::string shape;
  for (std::int64_t d : host.shape()) shape += std::to_string(d) + ", ";
  if (host.shape().rank() > 1) shape.resize(shape.size() - 1); // (3,) but (2, 3)
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  // The data starts on a 64-byte boundary; the header ends with a newline.
  header.append(63 - (magic_size + 4 + header.size()) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  check(static_cast<bool>(out), [&] { return path.string() + ": cannot be written"; });
  const char version[2] = {1, 0};
  const char length[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  out.write(magic, magic_size)
      .write(version, 2)
      .write(length, 2)
      .write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(host.raw()), static_cast<std::streamsize>(host.bytes()));
  check(static_cast<bool>(out), [&] { return path.string() + ": write failed"; });
}

} // namespace tern
