#include "run_cli.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/wait.h>
#include <unistd.h>

namespace tern::test {

Result tern_cli(const std::string& arguments, const std::string& environment) {
  static int calls = 0;
  const std::filesystem::path err_file =
      std::filesystem::temp_directory_path() /
      ("tern_cli_test_" + std::to_string(::getpid()) + "_" + std::to_string(calls++) + ".err");
  const std::string command = environment + " '" TERN_CLI "' " + arguments + " 2>'" + err_file.string() + "'";
  Result result{};
  FILE* pipe = ::popen(command.c_str(), "r");
  std::array<char, 4096> buffer{};
  for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) result.out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_file);
  result.err.assign(std::istreambuf_iterator<char>(err), {});
  std::filesystem::remove(err_file);
  return result;
}

} // namespace tern::test
