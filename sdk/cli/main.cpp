// `tern`: the command line tool. Exit codes: 0 success, 2 bad input or usage (a clear
// one-line reason on stderr), 1 an unexpected internal failure.
#include "command.hpp"

#include <tern/error.hpp>

#include <iostream>
#include <string_view>
#include <vector>

namespace {

using namespace tern::cli;

const std::vector<Command>& commands() {
  static const std::vector<Command> table{demo_command(),     info_command(),  run_command(),     eval_command(),
                                          quantize_command(), bench_command(), plugins_command(), version_command()};
  return table;
}

void print_usage(std::ostream& out) {
  out << "Usage: tern <command> [options]   (tern <command> --help for its options)\n\nCommands:\n";
  for (const Command& command : commands())
    out << "  " << command.name << std::string(12 - std::string_view(command.name).size(), ' ') << command.summary
        << "\n";
  out << "\nEvery command takes --json: one JSON object on stdout, human text on stderr.\n";
}

const Command* find_command(std::string_view name) {
  for (const Command& command : commands())
    if (name == command.name) return &command;
  return nullptr;
}

int run_command(const Command& command, int argc, char** argv) {
  po::options_description options(std::string("Options of 'tern ") + command.name + "'");
  options.add_options()("help,h", "show this help")("json", "print one JSON object on stdout (text goes to stderr)");
  command.add_options(options);
  po::variables_map args;
  bool json = false;
  for (int i = 0; i < argc; ++i) json = json || std::string_view(argv[i]) == "--json";
  Output out(json);
  try {
    po::positional_options_description positional;
    if (command.positional != nullptr) positional.add(command.positional, -1);
    po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(), args);
    po::notify(args);
  } catch (const po::error& e) {
    out.fail(std::string(e.what()) + " (see: tern " + command.name + " --help)");
    out.finish();
    return 2;
  }
  if (args.count("help")) {
    std::cout << "tern " << command.name << ": " << command.summary << "\n\n" << options << "\n";
    return 0;
  }
  int code = 0;
  try {
    code = command.run(args, out);
  } catch (const tern::Error& e) {
    out.fail(e.what());
    code = 2;
  } catch (const std::exception& e) {
    out.fail(std::string("internal error: ") + e.what());
    code = 1;
  }
  out.finish();
  return code;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(std::cerr);
    return 2;
  }
  const std::string_view first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    print_usage(std::cout);
    return 0;
  }
  if (first == "--version") return run_command(*find_command("version"), argc - 1, argv + 1);
  const Command* command = find_command(first);
  if (command == nullptr) {
    std::cerr << "tern: error: unknown command '" << first << "'\n\n";
    print_usage(std::cerr);
    return 2;
  }
  return run_command(*command, argc - 1, argv + 1);
}
