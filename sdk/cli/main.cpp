// `tern`: the command line tool. Exit codes: 0 success, 2 bad input or usage (a clear
// one-line reason on stderr), 1 an unexpected internal failure.
//
// Every exception a command lets escape is turned into one line here (docs/SECURITY.md):
//   tern::Error                       exit 2  its message (what failed, where, what to do)
//   std::bad_alloc                    exit 2  "out of memory while running 'tern ...'"
//   std::length_error                 exit 2  "a size too large to allocate while running ..."
//   std::system_error (filesystem,
//     I/O streams, threads)           exit 2  its message and the command line
//   anything else (std::out_of_range,
//     std::invalid_argument, oneDNN,
//     protobuf, non-std exceptions)   exit 1  "internal error: <type>: <what> while running
//                                             'tern ...'": a check is missing, a bug to report
// Messages are folded to one line (one_line(): ONNX checker context lines, bytes echoed
// from hostile files), on stderr and in the --json {"error": ...} object alike.
#include "command.hpp"

#include <tern/error.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <new>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <typeinfo>
#include <vector>

namespace {

using namespace tern::cli;

const std::vector<Command>& commands() {
  static const std::vector<Command> table{demo_command(),     info_command(),    run_command(),    eval_command(),
                                          quantize_command(), explore_command(), export_command(), bench_command(),
                                          plugins_command(),  version_command()};
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

/// "tern run m.onnx --input x.npy" (argv[0] is the command's name), cut when long: where
/// an error without a file name of its own happened.
std::string invocation(int argc, char** argv) {
  std::string text = "tern";
  for (int i = 0; i < argc; ++i) text += std::string(" ") + argv[i];
  return one_line(text, 200);
}

/// The dynamic type of an exception, demangled ("std::out_of_range", "dnnl::error").
std::string type_name(const std::exception& error) {
  const char* mangled = typeid(error).name();
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                                         std::free);
  return status == 0 && demangled ? demangled.get() : mangled;
}

/// Runs the command; returns its exit code, turning what escapes it into one line (see the
/// table at the top of this file).
int run_guarded(const Command& command, const po::variables_map& args, Output& out, int argc, char** argv) {
  const auto where = [&] { return " while running '" + invocation(argc, argv) + "'"; };
  try {
    return command.run(args, out);
  } catch (const tern::Error& e) {
    out.fail(e.what());
  } catch (const std::bad_alloc&) {
    out.fail("out of memory" + where() + ": an input may declare more data than this machine can hold");
  } catch (const std::length_error& e) {
    out.fail("a size too large to allocate" + where() + " (std::length_error: " + e.what() +
             "): an input may declare more data than this machine can hold");
  } catch (const std::system_error& e) {
    out.fail(std::string(e.what()) + where());
  } catch (const std::exception& e) {
    out.fail("internal error: " + type_name(e) + ": " + e.what() + where() +
             " (a bug in Tern: please report it with the input)");
    return 1;
  } catch (...) {
    out.fail("internal error: an exception of unknown type" + where() +
             " (a bug in Tern: please report it with the input)");
    return 1;
  }
  return 2;
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
  const int code = run_guarded(command, args, out, argc, argv);
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
    std::cerr << "tern: error: unknown command '" << one_line(first, 200) << "'\n\n";
    print_usage(std::cerr);
    return 2;
  }
  return run_command(*command, argc - 1, argv + 1);
}
