#pragma once
// Runs the built `tern` executable as a user would, capturing exit code, stdout, stderr.

#include <string>

namespace tern::test {

struct Result {
  int code;
  std::string out;
  std::string err;
};

/// Runs `tern <arguments>` with `environment` ("VAR=value ...") in front.
Result tern_cli(const std::string& arguments, const std::string& environment = "");

} // namespace tern::test
