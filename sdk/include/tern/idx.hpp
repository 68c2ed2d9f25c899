#pragma once
/// \file idx.hpp
/// IDX files (MNIST / Fashion-MNIST), optionally gzip-compressed.

#include <tern/tensor.hpp>

#include <filesystem>

namespace tern {

/// Reads an IDX (.gz) file of unsigned bytes (type 0x08) into a uint8 host tensor of the
/// file's dimensions. Throws tern::Error naming the file and what is wrong.
Tensor read_idx(const std::filesystem::path& path);

} // namespace tern
