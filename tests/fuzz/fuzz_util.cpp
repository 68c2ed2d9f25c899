#include "fuzz_util.hpp"

#include <tern/error.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>
#include <unistd.h>

namespace tern::fuzz {
namespace {

/// Owns the scratch folder: made on first use, removed at normal exit.
class ScratchDir {
public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tern-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) property_failed("cannot create a folder under " + pattern);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

} // namespace

const std::filesystem::path& scratch_dir() {
  static const ScratchDir dir;
  return dir.path();
}

std::filesystem::path write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path path = scratch_dir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) property_failed("cannot write the input to " + path.string());
  return path;
}

void property_failed(const std::string& what) {
  std::fprintf(stderr, "tern fuzz: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

std::uint64_t ByteReader::u64() {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<std::uint64_t>(byte()) << (8 * i);
  return value;
}

std::size_t ByteReader::pick(std::size_t n) {
  if (n == 0) return 0;
  std::size_t value = byte();
  if (n > 256) value = value << 8 | byte();
  return value % n;
}

} // namespace tern::fuzz
