#pragma once
/// \file npy.hpp
/// NumPy .npy files (optionally gzip-compressed, as the seed tutorial stores them).

#include <tern/tensor.hpp>

#include <filesystem>

namespace tern {

/// Reads a .npy or .npy.gz file (format 1.0-3.0, little-endian, C order) into a host tensor.
/// Supported dtypes: f4, f8, i1, u1, i2, i4, i8, b1. Throws tern::Error naming the file and
/// what is wrong (bad magic, truncated data, Fortran order, unsupported dtype, ...).
Tensor read_npy(const std::filesystem::path& path);

/// Writes `tensor` (a host tensor) as a .npy file (format 1.0). int4/uint4 are written as
/// int8/uint8. Throws tern::Error when the file cannot be written.
void write_npy(const Tensor& tensor, const std::filesystem::path& path);

} // namespace tern
