#pragma once
// The quantization report a page may show (docs/REPORT.md): read and checked field by field.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>

namespace tern::explore_page {

/// Each node's report entry, by node name. Throws tern::Error ("<path>: nodes[3].sqnr_db.alone
/// is not a number") for a file that is not a report of the documented schema.
std::map<std::string, nlohmann::json> read_quantize_report(const std::filesystem::path& path);

} // namespace tern::explore_page
