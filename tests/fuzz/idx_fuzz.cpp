// Fuzz target: IDX files (tern::read_idx, the Fashion-MNIST reader). Any input must either
// be read into a uint8 tensor whose size matches its shape, or be refused with
// tern::Error; anything else escaping is a finding, as are crashes and sanitizer reports.
#include "fuzz_util.hpp"

#include <tern/error.hpp>
#include <tern/idx.hpp>

#include <numeric>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tern;
  const std::filesystem::path path = fuzz::write_input("input.idx", data, size);
  Tensor tensor;
  try {
    tensor = read_idx(path);
  } catch (const Error&) {
    return 0; // refused: the expected outcome for most inputs
  }
  if (tensor.dtype() != DataType::UInt8 || tensor.shape().rank() == 0 || tensor.numel() < 0)
    fuzz::property_failed("read_idx returned " + tensor.describe());
  // Every promised byte is readable (AddressSanitizer checks the reads).
  const auto* bytes = static_cast<const std::uint8_t*>(tensor.raw());
  const auto count = static_cast<std::size_t>(tensor.numel());
  volatile std::size_t sum = std::accumulate(bytes, bytes + count, std::size_t{0});
  (void)sum;
  return 0;
}
