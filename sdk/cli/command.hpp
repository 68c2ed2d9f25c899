#pragma once
// A subcommand of `tern`: its name, a one-line summary, its options and what it does.
// main.cpp holds the table of every command; each lives in its own command_*.cpp.

#include "output.hpp"

#include <boost/program_options.hpp>

namespace tern::cli {

namespace po = boost::program_options;

struct Command {
  const char* name;
  const char* summary;
  /// The option that collects positional arguments ("model"), or nullptr for none.
  const char* positional;
  void (*add_options)(po::options_description& options);
  /// Returns the exit code; throws tern::Error for bad input (exit code 2).
  int (*run)(const po::variables_map& args, Output& out);
};

Command version_command();
Command plugins_command();
Command demo_command();
Command info_command();
Command run_command();
Command eval_command();
Command bench_command();
Command quantize_command();
Command explore_command();
Command export_command();

} // namespace tern::cli
