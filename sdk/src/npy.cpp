// NPY format: "\x93NUMPY", major, minor, header length (2 bytes in 1.0, 4 in 2.0/3.0),
// then a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, ...), }.
#include <tern/npy.hpp>

#include "file_bytes.hpp"
#include "npy_header.hpp"

#include <tern/checked_math.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>

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
  const detail::NpyHeader header =
      detail::parse_npy_header(std::string_view(bytes).substr(8 + length_bytes, header_length), where);

  const DataType* dtype = nullptr;
  for (const Descr& known : descrs)
    if (header.descr == known.text) dtype = &known.dtype;
  check(dtype != nullptr, [&] {
    return where + "unsupported dtype '" + header.descr +
           "' (supported: <f4 <f8 |i1 |u1 <i2 <i4 <i8 |b1, little-endian)";
  });
  check(!header.fortran_order,
        [&] { return where + "Fortran-ordered arrays are not supported: save with np.ascontiguousarray"; });
  // The declared size is checked against the file before anything is allocated.
  const Shape shape(header.shape);
  const std::optional<std::int64_t> count = try_element_count(header.shape);
  const std::optional<std::int64_t> needed =
      count ? try_mul(*count, static_cast<std::int64_t>(size_of(*dtype))) : std::nullopt;
  const std::size_t held = bytes.size() - data_offset;
  check(needed && static_cast<std::size_t>(*needed) == held, [&] {
    return where + "holds " + std::to_string(held) + " data bytes, shape " + shape.to_string() + " of " +
           std::string(name(*dtype)) + " needs " + (needed ? std::to_string(*needed) : "more than 2^63") +
           " (truncated?)";
  });
  const char* data = bytes.data() + data_offset;
  if (*dtype == DataType::Bool) {
    const auto bad = std::find_if(data, data + held, [](char byte) { return byte != 0 && byte != 1; });
    check(bad == data + held, [&] {
      return where + "bool element " + std::to_string(bad - data) + " is byte " +
             std::to_string(static_cast<unsigned char>(*bad)) + ", not 0 or 1";
    });
  }
  Tensor tensor(shape, *dtype);
  std::memcpy(tensor.raw(), data, held);
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
