#include "file_bytes.hpp"

#include <tern/error.hpp>

#include <zlib.h>

#include <memory>

namespace tern::detail {

std::string read_file_bytes(const std::filesystem::path& path) {
  std::error_code error;
  check(std::filesystem::is_regular_file(path, error), [&] { return path.string() + ": no such file"; });
  // gzread passes plain (uncompressed) files through unchanged.
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  check(file != nullptr, [&] { return path.string() + ": cannot be opened"; });
  std::string bytes;
  char chunk[1 << 16];
  for (;;) {
    const int n = gzread(file.get(), chunk, sizeof chunk);
    if (n > 0) bytes.append(chunk, static_cast<std::size_t>(n));
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
