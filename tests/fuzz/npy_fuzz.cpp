// Fuzz target: NPY files (tern::read_npy). Any input must either be read into a tensor
// that holds exactly the bytes its shape and dtype promise, or be refused with
// tern::Error; anything else escaping (std::bad_alloc, std::out_of_range, ...) is a
// finding, as are crashes and sanitizer reports. A tensor read is also written back with
// tern::write_npy and read again: the round trip must give the same tensor.
#include "fuzz_util.hpp"

#include <tern/error.hpp>
#include <tern/npy.hpp>

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tern;
  const std::filesystem::path path = fuzz::write_input("input.npy", data, size);
  Tensor tensor;
  try {
    tensor = read_npy(path);
  } catch (const Error&) {
    return 0; // refused: the expected outcome for most inputs
  }
  if (tensor.numel() < 0 || tensor.bytes() != static_cast<std::size_t>(tensor.numel()) * size_of(tensor.dtype()))
    fuzz::property_failed("read_npy returned " + tensor.describe() + " whose byte count does not match its shape");
  // Every byte is readable (AddressSanitizer checks the memcmp below too).
  const std::filesystem::path copy = fuzz::scratch_dir() / "copy.npy";
  write_npy(tensor, copy);
  const Tensor again = read_npy(copy);
  if (again.dtype() != tensor.dtype() || again.shape() != tensor.shape() ||
      (tensor.bytes() > 0 && std::memcmp(again.raw(), tensor.raw(), tensor.bytes()) != 0))
    fuzz::property_failed("write_npy then read_npy changed " + tensor.describe() + " into " + again.describe());
  return 0;
}
