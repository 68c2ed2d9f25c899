#pragma once
/// \file checked_math.hpp
/// Size arithmetic that never wraps, and the one ceiling on tensor sizes.
///
/// Every element count, byte count, dimension sum or product that can come from outside
/// (model files, dataset headers, shape data, batch sizes) goes through these: overflow of
/// int64 is a tern::Error naming the values and where they came from, never undefined
/// behaviour or a wrapped size that is then allocated.
///
/// TERN_MAX_TENSOR_BYTES (environment variable, a whole number of bytes) caps the size of
/// any one tensor allocation: Tensor's allocating constructor and the scheduler's buffers
/// refuse anything larger, before allocating, with one line such as
/// "a float32[60000,28,28] tensor needs 188160000 bytes, over the limit of 1000 bytes
/// (TERN_MAX_TENSOR_BYTES)". Unset (or empty), the limit is half the physical memory
/// (sysconf(_SC_PHYS_PAGES) x sysconf(_SC_PAGE_SIZE) / 2, computed once), and the message
/// ends "(half the physical memory; TERN_MAX_TENSOR_BYTES sets it)". The variable itself is
/// read on every check, so a host (or a test) may change it between calls; a value that is
/// not a whole number of bytes makes every allocation fail, saying so. The dataset readers
/// also stop decompressing a file at this limit plus 1 MiB of header room.

#include <tern/dtype.hpp>
#include <tern/error.hpp>
#include <tern/shape.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace tern {

/// a * b, or nullopt when the product does not fit int64.
inline std::optional<std::int64_t> try_mul(std::int64_t a, std::int64_t b) {
  std::int64_t result = 0;
  if (__builtin_mul_overflow(a, b, &result)) return std::nullopt;
  return result;
}

/// a + b, or nullopt when the sum does not fit int64.
inline std::optional<std::int64_t> try_add(std::int64_t a, std::int64_t b) {
  std::int64_t result = 0;
  if (__builtin_add_overflow(a, b, &result)) return std::nullopt;
  return result;
}

/// Throws tern::Error("<where>: <a> <op> <b> overflows int64"); the shared failure of
/// checked_mul and checked_add (out of line: the text is built only on failure).
[[noreturn]] void throw_overflow(const std::string& where, std::int64_t a, const char* op, std::int64_t b);

/// a * b; on overflow throws tern::Error("<where()>: <a> x <b> overflows int64"), where
/// `where` names what is being computed and from what, e.g.
/// `checked_mul(dim, repeat, [&] { return "node 't' (Tile): axis 0 repeated"; })`.
/// `where` is called only on failure.
template <class Where>
requires std::is_invocable_r_v<std::string, Where> std::int64_t checked_mul(std::int64_t a, std::int64_t b,
                                                                            Where&& where) {
  const std::optional<std::int64_t> result = try_mul(a, b);
  if (!result) throw_overflow(where(), a, "x", b);
  return *result;
}

/// a + b; on overflow throws tern::Error("<where()>: <a> + <b> overflows int64").
template <class Where>
requires std::is_invocable_r_v<std::string, Where> std::int64_t checked_add(std::int64_t a, std::int64_t b,
                                                                            Where&& where) {
  const std::optional<std::int64_t> result = try_add(a, b);
  if (!result) throw_overflow(where(), a, "+", b);
  return *result;
}

/// The element count of `dims` (1 when empty, 0 when any dimension is 0), or nullopt when
/// it does not fit int64. Every dimension must be >= 0 (callers check dynamic ones first).
std::optional<std::int64_t> try_element_count(const std::vector<std::int64_t>& dims);

/// Bytes a tensor of `shape` and `dtype` takes: shape.numel() x size_of(dtype). Throws
/// tern::Error for a dynamic or negative dimension, or when the count overflows int64
/// ("a float32[...] tensor needs more than 9223372036854775807 bytes").
std::int64_t tensor_byte_count(const Shape& shape, DataType dtype);

/// The ceiling on one tensor allocation, in bytes: TERN_MAX_TENSOR_BYTES when set (read
/// at every call), else half the physical memory (sysconf). Throws tern::Error when the
/// variable is set to something other than a whole number of bytes.
std::int64_t max_tensor_bytes();

/// tensor_byte_count(shape, dtype), after checking it against max_tensor_bytes(): what
/// every allocation of tensor memory in the core calls first. Throws tern::Error("a
/// float32[...] tensor needs N bytes, over the limit of M bytes (TERN_MAX_TENSOR_BYTES)").
std::size_t allocation_bytes(const Shape& shape, DataType dtype);

} // namespace tern
