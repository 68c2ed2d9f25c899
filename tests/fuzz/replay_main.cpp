// Replays files through a fuzz target's LLVMFuzzerTestOneInput without libFuzzer, so that
// every `make test` (any compiler) runs the seed corpus and every saved crash reproducer.
//
//   tern_fuzz_replay_<name> [--timeout SECONDS] FILE_OR_FOLDER...
//
// Folders are walked recursively (files in name order; dot files skipped). Each input runs
// in a child process of its own, so one crash does not hide the next: an exception
// escaping the target (it catches only tern::Error) is reported with the exception's type,
// a crash with its signal, an input running past the timeout as a timeout, each naming
// the input. Exit code 0 when every input ran cleanly, 1 otherwise (or when no input was
// found).
#include <cxxabi.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <typeinfo>
#include <unistd.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Optional in a target, as for libFuzzer.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

namespace fs = std::filesystem;

std::string type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                   std::free);
  return status == 0 && demangled ? demangled.get() : type.name();
}

void collect(const fs::path& path, std::vector<fs::path>& files) {
  if (fs::is_directory(path)) {
    std::vector<fs::path> found;
    for (const fs::directory_entry& entry : fs::recursive_directory_iterator(path))
      if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') found.push_back(entry.path());
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  } else if (fs::is_regular_file(path)) {
    files.push_back(path);
  } else {
    std::cerr << "replay: " << path.string() << ": no such file or folder\n";
  }
}

/// Runs one input in this (child) process; returns its exit code.
int run_input(const fs::path& file, const std::string& bytes) {
  try {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "replay: FINDING " << file.string() << ": " << type_name(typeid(error)) << " escaped: " << error.what()
              << std::endl;
  } catch (...) {
    std::cerr << "replay: FINDING " << file.string() << ": a non-standard exception escaped" << std::endl;
  }
  return 1;
}

/// Runs one input in a child process, with `timeout` seconds; true when it ran cleanly.
bool replay(const fs::path& file, unsigned timeout) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::cout.flush();
  std::cerr.flush();
  const pid_t child = fork();
  if (child < 0) {
    std::cerr << "replay: cannot fork: " << std::strerror(errno) << "\n";
    return false;
  }
  if (child == 0) {
    alarm(timeout);                    // SIGALRM's default action ends the child: the parent reports it
    std::exit(run_input(file, bytes)); // exit, not _exit: the target's scratch folder is removed
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 0) return true;
    if (WEXITSTATUS(status) != 1) // 1: the child has said why
      std::cerr << "replay: FINDING " << file.string() << ": exit code " << WEXITSTATUS(status) << "\n";
    return false;
  }
  const int signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  if (signal == SIGALRM)
    std::cerr << "replay: TIMEOUT on input " << file.string() << " (over " << timeout << " s)\n";
  else
    std::cerr << "replay: CRASH on input " << file.string() << " (signal " << signal << ", " << strsignal(signal)
              << ")\n";
  return false;
}

} // namespace

int main(int argc, char** argv) {
  unsigned timeout = 60;
  std::vector<fs::path> files;
  std::vector<std::string> sources;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--timeout" && i + 1 < argc) {
      timeout = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
      continue;
    }
    const std::size_t before = files.size();
    collect(arg, files);
    sources.push_back(arg + " (" + std::to_string(files.size() - before) + ")");
  }
  if (files.empty()) {
    std::cerr << "replay: no input files (usage: " << argv[0] << " [--timeout SECONDS] FILE_OR_FOLDER...)\n";
    return 1;
  }
  // Once, before the children fork: what it loads (plugins) they inherit.
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);

  std::size_t failures = 0;
  double slowest = 0;
  std::string slowest_name;
  const auto start = std::chrono::steady_clock::now();
  for (const fs::path& file : files) {
    const auto begin = std::chrono::steady_clock::now();
    if (!replay(file, timeout)) ++failures;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    if (seconds > slowest) {
      slowest = seconds;
      slowest_name = file.string();
    }
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "replay: ran " << files.size() << " input(s) from";
  for (const std::string& source : sources) std::cout << " " << source;
  std::cout << " in " << total << " s (slowest " << slowest << " s: " << slowest_name << "); " << failures
            << " finding(s)" << std::endl;
  return failures == 0 ? 0 : 1;
}
