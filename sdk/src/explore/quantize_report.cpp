#include "quantize_report.hpp"

#include "../file_bytes.hpp"

#include <tern/error.hpp>

namespace tern::explore_page {
namespace {

using nlohmann::json;

const json& field(const json& object, const std::string& key, const std::string& where) {
  const auto it = object.find(key);
  check(it != object.end(), [&] { return where + " has no '" + key + "'"; });
  return *it;
}

void check_entry(const json& entry, const std::string& where) {
  check(entry.is_object(), [&] { return where + " is not an object"; });
  check(field(entry, "node", where).is_string(), [&] { return where + ".node is not a string"; });
  const json& sqnr = field(entry, "sqnr_db", where);
  check(sqnr.is_object() && (sqnr.contains("alone") || sqnr.contains("network")),
        [&] { return where + ".sqnr_db is not an object with 'alone' and/or 'network'"; });
  for (const auto& [key, value] : sqnr.items())
    check(value.is_number(), [&] { return where + ".sqnr_db." + key + " is not a number"; });
  for (const char* key : {"clip", "scale", "macs", "parameters"})
    check(!entry.contains(key) || entry[key].is_number(), [&] { return where + "." + key + " is not a number"; });
  check(!entry.contains("range") || (entry["range"].is_array() && entry["range"].size() == 2 &&
                                     entry["range"][0].is_number() && entry["range"][1].is_number()),
        [&] { return where + ".range is not [min, max]"; });
  for (const char* key : {"histogram", "weight_histogram"}) {
    if (!entry.contains(key)) continue;
    const json& histogram = entry[key];
    check(histogram.is_object() && histogram.contains("bin_width") && histogram["bin_width"].is_number() &&
              histogram["bin_width"].get<double>() > 0 && histogram.contains("counts") &&
              histogram["counts"].is_array(),
          [&] { return where + "." + key + " is not {\"bin_width\": positive number, \"counts\": [...]}"; });
    for (const json& count : histogram["counts"])
      check(count.is_number(), [&] { return where + "." + key + ".counts holds something other than numbers"; });
  }
}

} // namespace

std::map<std::string, json> read_quantize_report(const std::filesystem::path& path) {
  const std::string bytes = detail::read_file_bytes(path); // its errors name the file
  try {
    json report;
    try {
      report = json::parse(bytes);
    } catch (const json::exception& e) {
      // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
      const std::string what = e.what();
      throw Error("not a JSON file (" + what.substr(what.find(']') + 2) + ")");
    }
    check(report.is_object(), "not a quantization report (the top level is not an object)");
    // Compared as JSON values: a 'format' of another type is simply not equal.
    check(report.contains("format") && report["format"] == "tern.quantize_report",
          "not a quantization report: 'format' is not \"tern.quantize_report\" (docs/REPORT.md)");
    check(report.contains("version") && report["version"] == 1, "'version' is not 1, the version Tern reads");
    const json& nodes = field(report, "nodes", "the report");
    check(nodes.is_array(), "'nodes' is not an array");
    std::map<std::string, json> entries;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const std::string where = "nodes[" + std::to_string(i) + "]";
      check_entry(nodes[i], where);
      const std::string node = nodes[i]["node"];
      check(entries.emplace(node, nodes[i]).second, [&] { return where + " repeats node '" + node + "'"; });
    }
    return entries;
  } catch (const Error& e) {
    throw Error(path.string() + ": " + e.what());
  }
}

} // namespace tern::explore_page
