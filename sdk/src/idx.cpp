// IDX: 2 zero bytes, a type byte (0x08 = unsigned byte), a rank byte, then one big-endian
// uint32 per dimension, then the data.
#include <tern/idx.hpp>

#include "file_bytes.hpp"

#include <tern/checked_math.hpp>

#include <cstring>
#include <optional>

namespace tern {

Tensor read_idx(const std::filesystem::path& path) {
  const std::string bytes = detail::read_file_bytes(path);
  const std::string where = path.string() + ": ";
  check(bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0,
        [&] { return where + "not an IDX file (wrong magic bytes)"; });
  check(static_cast<unsigned char>(bytes[2]) == 0x08, [&] {
    return where + "IDX element type " + std::to_string(static_cast<unsigned char>(bytes[2])) +
           " is not unsigned byte (0x08)";
  });
  const std::size_t rank = static_cast<unsigned char>(bytes[3]);
  check(rank >= 1 && bytes.size() >= 4 + 4 * rank, [&] { return where + "truncated header"; });
  std::vector<std::int64_t> dims;
  for (std::size_t i = 0; i < rank; ++i) {
    std::int64_t dim = 0;
    for (std::size_t b = 0; b < 4; ++b) dim = dim << 8 | static_cast<unsigned char>(bytes[4 + 4 * i + b]);
    dims.push_back(dim);
  }
  // The header's promise is checked against the file before anything is allocated (a
  // 16-byte file must not cost gigabytes): one byte per element, counted without wrapping.
  const Shape shape(dims);
  const std::size_t offset = 4 + 4 * rank;
  const std::size_t held = bytes.size() - offset;
  const std::optional<std::int64_t> needed = try_element_count(dims);
  check(needed && static_cast<std::uint64_t>(*needed) == held, [&] {
    return where + "holds " + std::to_string(held) + " data bytes after its " + std::to_string(offset) +
           "-byte header, which promises " + shape.to_string() +
           " unsigned bytes: " + (needed ? std::to_string(*needed) : "more than 2^63") + " (truncated?)";
  });
  Tensor tensor(shape, DataType::UInt8);
  std::memcpy(tensor.raw(), bytes.data() + offset, held);
  return tensor;
}

} // namespace tern
