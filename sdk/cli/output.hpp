#pragma once
// Where a command writes. Human text goes to stdout, or to stderr under --json, where
// stdout carries exactly one JSON object (the command's result, or {"error": ...}).

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>

namespace tern::cli {

class Output {
public:
  explicit Output(bool json) : json_(json) {}
  bool json() const { return json_; }
  /// The stream for human-readable text.
  std::ostream& text() const;
  /// The JSON result being built (printed by finish() under --json).
  nlohmann::json& result() { return result_; }
  /// Records a failure: one line on stderr, and {"error": message} under --json.
  void fail(const std::string& message);
  /// Prints the JSON result under --json; does nothing otherwise.
  void finish() const;

private:
  bool json_;
  nlohmann::json result_ = nlohmann::json::object();
};

} // namespace tern::cli
