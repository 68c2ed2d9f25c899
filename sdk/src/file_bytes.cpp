#include "file_bytes.hpp"

#include <tern/checked_math.hpp>
#include <tern/error.hpp>

#include <zlib.h>

#include <cstdint>
#include <memory>

namespace tern::detail {

std::string read_file_bytes(const std::filesystem::path& path) {
  std::error_code error;
  check(std::filesystem::is_regular_file(path, error), [&] { return path.string() + ": no such file"; });
  // gzread passes plain (uncompressed) files through unchanged.
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  check(file != nullptr, [&] { return path.string() + ": cannot be opened"; });
  // The readers make one tensor of what follows a header of at most header_room bytes:
  // more than that over the tensor ceiling could never be read, so a file (or a small gzip
  // stream that inflates without end) stops there instead of filling memory.
  constexpr std::int64_t header_room = 1 << 20;
  const std::int64_t tensor_limit = max_tensor_bytes();
  const std::int64_t limit = try_add(tensor_limit, header_room).value_or(tensor_limit);
  std::string bytes;
  char chunk[1 << 16];
  for (;;) {
    const int n = gzread(file.get(), chunk, sizeof chunk);
    if (n > 0) bytes.append(chunk, static_cast<std::size_t>(n));
    check(bytes.size() <= static_cast<std::uint64_t>(limit), [&] {
      return path.string() + ": holds more than " + std::to_string(limit) +
             " bytes (decompressed), over the limit of " + std::to_string(tensor_limit) +
             " bytes for one tensor (TERN_MAX_TENSOR_BYTES) plus a header";
    });
    if (n < static_cast<int>(sizeof chunk)) break;
  }
  int code = Z_OK;
  const char* message = gzerror(file.get(), &code);
  check(code == Z_OK || code == Z_STREAM_END, [&] {
    return path.string() + ": corrupt or truncated gzip data (" + (message ? message : "zlib error") + ")";
  });
  return bytes;
}

} // namespace tern::detail
