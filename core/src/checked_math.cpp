#include <tern/checked_math.hpp>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <utility>

namespace tern {
namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

/// "float32[60000,28,28]": how size errors name a tensor.
std::string tensor_text(const Shape& shape, DataType dtype) { return std::string(name(dtype)) + shape.to_string(); }

/// Half the physical memory, once per process (it does not change); no limit when the
/// system does not say.
std::int64_t default_limit() {
  static const std::int64_t limit = [] {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page_size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page_size <= 0) return int64_max;
    const std::optional<std::int64_t> total = try_mul(pages, page_size);
    return total ? *total / 2 : int64_max;
  }();
  return limit;
}

} // namespace

void throw_overflow(const std::string& where, std::int64_t a, const char* op, std::int64_t b) {
  throw Error(where + ": " + std::to_string(a) + " " + op + " " + std::to_string(b) + " overflows int64");
}

std::optional<std::int64_t> try_element_count(const std::vector<std::int64_t>& dims) {
  // A zero dimension makes the count 0 whatever the others are (even if they overflow).
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) return 0;
  std::int64_t count = 1;
  for (const std::int64_t d : dims) {
    const std::optional<std::int64_t> next = try_mul(count, d);
    if (!next) return std::nullopt;
    count = *next;
  }
  return count;
}

std::int64_t tensor_byte_count(const Shape& shape, DataType dtype) {
  const std::optional<std::int64_t> bytes = try_mul(shape.numel(), static_cast<std::int64_t>(size_of(dtype)));
  check(bytes.has_value(), [&] {
    return "a " + tensor_text(shape, dtype) + " tensor needs more than " + std::to_string(int64_max) + " bytes";
  });
  return *bytes;
}

namespace {

/// The limit, and whether TERN_MAX_TENSOR_BYTES set it.
std::pair<std::int64_t, bool> limit_and_source() {
  const char* text = std::getenv("TERN_MAX_TENSOR_BYTES");
  if (text == nullptr || *text == '\0') return {default_limit(), false};
  const std::string_view value(text);
  std::int64_t limit = -1;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), limit);
  check(error == std::errc() && end == value.data() + value.size() && limit >= 0, [&] {
    // The value is echoed only when it is short and printable: errors stay one line.
    const bool echo =
        value.size() <= 40 && std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    return std::string("TERN_MAX_TENSOR_BYTES is ") + (echo ? "'" + std::string(value) + "'" : "set") +
           ", not a whole number of bytes that fits int64";
  });
  return {limit, true};
}

} // namespace

std::int64_t max_tensor_bytes() { return limit_and_source().first; }

std::size_t allocation_bytes(const Shape& shape, DataType dtype) {
  const std::int64_t bytes = tensor_byte_count(shape, dtype);
  const auto [limit, from_environment] = limit_and_source();
  check(bytes <= limit, [&] {
    return "a " + tensor_text(shape, dtype) + " tensor needs " + std::to_string(bytes) + " bytes, over the limit of " +
           std::to_string(limit) + " bytes (" +
           (from_environment ? "TERN_MAX_TENSOR_BYTES" : "half the physical memory; TERN_MAX_TENSOR_BYTES sets it") +
           ")";
  });
  return static_cast<std::size_t>(bytes);
}

} // namespace tern
