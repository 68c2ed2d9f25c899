#pragma once
// What the fuzz targets share: the readers under test take file paths, so each input is
// written to a file in a folder private to the process first; and a reader of the fuzz
// bytes that turns them into choices (which operator, which shape, ...).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace tern::fuzz {

/// A folder of its own for this process under the system temp folder, created on first use
/// and removed when the process exits normally.
const std::filesystem::path& scratch_dir();

/// Writes `size` bytes to scratch_dir() / name (replacing the file) and returns its path.
std::filesystem::path write_input(const std::string& name, const std::uint8_t* data, std::size_t size);

/// Ends the process with a message on stderr: a property of a result that cannot hold
/// (a finding the fuzzer then saves, like a crash).
[[noreturn]] void property_failed(const std::string& what);

/// Consumes fuzz bytes front to back; once they run out every read returns 0.
class ByteReader {
public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::size_t remaining() const { return size_ - pos_; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  /// Little-endian, from up to 8 bytes.
  std::uint64_t u64();
  /// A value in [0, n) (0 when n is 0), from one byte when n <= 256, else two.
  std::size_t pick(std::size_t n);
  /// True with probability about numerator/256.
  bool chance(unsigned numerator) { return byte() < numerator; }

private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

} // namespace tern::fuzz
