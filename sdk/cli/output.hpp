#pragma once
// Where a command writes. Human text goes to stdout, or to stderr under --json, where
// stdout carries exactly one JSON object (the command's result, or {"error": ...}).

#include <nlohmann/json.hpp>

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>

namespace tern::cli {

/// `text` made fit for one line of a terminal or log, as every refusal must be: each run
/// of line breaks (with the spaces and control characters around it) becomes "; " (a
/// space after ':', ';', ',' or '.'), any other control character a space, invalid UTF-8
/// bytes "\xNN", leading and trailing whitespace goes, and text past `limit` bytes is cut
/// with "... (N more bytes)". ONNX checker messages ("...\n\n==> Context: ...") and errors
/// that echo bytes of a hostile file thus stay one line.
std::string one_line(std::string_view text, std::size_t limit = 2000);

class Output {
public:
  explicit Output(bool json) : json_(json) {}
  bool json() const { return json_; }
  /// The stream for human-readable text.
  std::ostream& text() const;
  /// The JSON result being built (printed by finish() under --json).
  nlohmann::json& result() { return result_; }
  /// Records a failure: one line on stderr, and {"error": message} under --json (the
  /// message folded by one_line() in both).
  void fail(const std::string& message);
  /// Prints the JSON result under --json; does nothing otherwise. Strings that are not
  /// valid UTF-8 (names read from a model file) are printed with U+FFFD in place of the
  /// bad bytes rather than failing.
  void finish() const;

private:
  bool json_;
  nlohmann::json result_ = nlohmann::json::object();
};

} // namespace tern::cli
