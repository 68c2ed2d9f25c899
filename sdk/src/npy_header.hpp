#pragma once
// The NPY header, a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// read by a small tokenizer: no regex (a long header cannot exhaust the stack), a length
// limit, dimensions checked against int64 overflow, and errors that never echo raw bytes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tern::detail {

/// The longest header read: numpy writes well under 1 KiB.
inline constexpr std::size_t npy_header_limit = 64 * 1024;

/// What the header says.
struct NpyHeader {
  std::string descr;               ///< e.g. "<f4"
  bool fortran_order = false;      ///< column-major data
  std::vector<std::int64_t> shape; ///< () for a scalar
};

/// Parses `text` (the header after the length field); throws tern::Error("<where>the NPY
/// header ...") naming the byte offset of the first problem.
NpyHeader parse_npy_header(std::string_view text, const std::string& where);

} // namespace tern::detail
