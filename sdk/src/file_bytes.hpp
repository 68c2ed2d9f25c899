#pragma once
// Whole-file reads through zlib, so .gz and plain files are read the same way.

#include <filesystem>
#include <string>

namespace tern::detail {

/// The (decompressed) bytes of `path`; throws tern::Error naming the file for a missing,
/// unreadable or truncated/corrupt gzip file, and for one whose content exceeds the tensor
/// ceiling (tern::max_tensor_bytes()) by more than 1 MiB of header room: it stops reading
/// there, so a small gzip stream that inflates without end never fills memory.
std::string read_file_bytes(const std::filesystem::path& path);

} // namespace tern::detail
