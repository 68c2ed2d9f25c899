#pragma once
// Whole-file reads through zlib, so .gz and plain files are read the same way.

#include <filesystem>
#include <string>

namespace tern::detail {

/// The (decompressed) bytes of `path`; throws tern::Error naming the file for a missing,
/// unreadable or truncated/corrupt gzip file.
std::string read_file_bytes(const std::filesystem::path& path);

} // namespace tern::detail
