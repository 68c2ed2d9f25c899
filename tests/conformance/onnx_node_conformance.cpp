// tern-conformance: runs ONNX's own backend node tests (Debian's libonnx-testdata:
// data/node/<test>/model.onnx with test_data_set_*/input_*.pb and output_*.pb) on one Tern
// backend and compares with ONNX's expected outputs at ONNX's tolerances (rtol 1e-3, atol
// 1e-7, as ONNX's runner). A test is skipped as unsupported when its model uses an op type
// Tern has no schema for, or when the backend has no kernel for a node or declines it. Two
// skip lists name the other skips, each with its reason: the importer's (limits of Tern's
// ONNX import and schemas, the same for every backend; always read) and the backend's own
// (--skip-list). Exit code 0 only with zero failures and at least --min-run tests run; 77
// when the backend cannot be had on this machine (e.g. no GPU), with the plugin's reason.
//   tern-conformance --backend mine [--skip-list my_skips.txt] [--filter conv] [--min-run N]
#include <tern/onnx_tensor.hpp>
#include <tern/tern.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace {

constexpr double rtol = 1e-3;
constexpr double atol = 1e-7;

/// The importer's skip list: <prefix>/share/tern/ when installed, else the source tree's.
fs::path importer_skip_list() {
  std::error_code error;
  const fs::path installed =
      fs::read_symlink("/proc/self/exe", error).parent_path() / ".." / "share" / "tern" / "importer_skip_list.txt";
  return !error && fs::exists(installed, error) ? installed : fs::path(TERN_IMPORTER_SKIP_LIST);
}

struct Options {
  fs::path data = "/usr/share/libonnx-testdata/data/node";
  std::vector<fs::path> skip_lists;
  std::string backend = "cpu";
  std::string filter;
  std::size_t min_run = 0;
};

/// skip_list.txt: "<test name>  <reason>" per line; '#' starts a comment.
std::map<std::string, std::string> read_skip_list(const fs::path& path) {
  std::map<std::string, std::string> skips;
  std::ifstream in(path);
  tern::check(static_cast<bool>(in), "cannot read skip list " + path.string());
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    const auto begin = line.find_first_not_of(" \t");
    if (begin == std::string::npos) continue;
    const auto end = line.find_first_of(" \t", begin);
    const std::string name = line.substr(begin, end - begin);
    const auto reason = end == std::string::npos ? std::string::npos : line.find_first_not_of(" \t", end);
    tern::check(reason != std::string::npos, path.string() + ": skip of '" + name + "' gives no reason");
    skips[name] = line.substr(reason);
  }
  return skips;
}

std::vector<fs::path> sorted_entries(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().starts_with(prefix)) entries.push_back(entry.path());
  std::sort(entries.begin(), entries.end());
  return entries;
}

/// "" when `got` matches `want` within the tolerances, else what differs.
std::string compare(const tern::Tensor& got, const tern::Tensor& want, const std::string& name) {
  if (got.dtype() != want.dtype())
    return name + ": dtype " + std::string(tern::name(got.dtype())) + ", expected " +
           std::string(tern::name(want.dtype()));
  if (got.shape() != want.shape())
    return name + ": shape " + got.shape().to_string() + ", expected " + want.shape().to_string();
  const auto a = got.to_doubles(), b = want.to_doubles();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const bool both_nan = std::isnan(a[i]) && std::isnan(b[i]);
    const bool same_inf = std::isinf(a[i]) && a[i] == b[i];
    if (!both_nan && !same_inf && !(std::abs(a[i] - b[i]) <= atol + rtol * std::abs(b[i])))
      return name + "[" + std::to_string(i) + "] = " + std::to_string(a[i]) + ", expected " + std::to_string(b[i]);
  }
  return {};
}

bool is_unsupported(const std::string& message) {
  return message.find("unsupported op type") != std::string::npos || message.find("no backend of (") == 0;
}

/// Runs every data set of one test; "" on success, else the first difference or error.
std::string run_test(const fs::path& dir, const std::string& backend) {
  const tern::Graph graph = tern::load_model(dir / "model.onnx");
  tern::SequentialScheduler scheduler(graph, {backend});
  for (const fs::path& set : sorted_entries(dir, "test_data_set_")) {
    std::vector<tern::Tensor> inputs;
    for (const fs::path& file : sorted_entries(set, "input_")) inputs.push_back(tern::read_tensor_pb(file));
    const std::vector<tern::Tensor> outputs = scheduler.forward(inputs);
    const std::vector<fs::path> expected = sorted_entries(set, "output_");
    if (expected.size() != outputs.size())
      return std::to_string(outputs.size()) + " outputs, expected " + std::to_string(expected.size());
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const std::string difference = compare(outputs[i], tern::read_tensor_pb(expected[i]),
                                             set.filename().string() + "/" + graph.outputs()[i]->name());
      if (!difference.empty()) return difference;
    }
  }
  return {};
}

Options parse(int argc, char** argv) {
  Options options;
  options.skip_lists.push_back(importer_skip_list());
  for (int i = 1; i < argc; i += 2) {
    const std::string key = argv[i];
    if (i + 1 >= argc) throw tern::Error("option " + key + " needs a value");
    const std::string value = argv[i + 1];
    if (key == "--data")
      options.data = value;
    else if (key == "--skip-list")
      options.skip_lists.push_back(value);
    else if (key == "--backend")
      options.backend = value;
    else if (key == "--filter")
      options.filter = value;
    else if (key == "--min-run")
      options.min_run = std::stoul(value);
    else
      throw tern::Error("unknown option " + key + " (use --data, --skip-list, --backend, --filter, --min-run)");
  }
  return options;
}

} // namespace

int main(int argc, char** argv) try {
  const Options options = parse(argc, argv);
  try {
    (void)tern::backend(options.backend);
  } catch (const tern::Error& e) {
    std::cout << "backend '" << options.backend << "' cannot be used here: " << e.what() << "\n";
    return 77; // "skipped" for CTest where the backend may legitimately be absent (cuda without a GPU)
  }
  std::map<std::string, std::string> skips;
  for (const fs::path& list : options.skip_lists) skips.merge(read_skip_list(list));
  std::size_t passed = 0, listed = 0;
  std::map<std::string, std::string> failures, unsupported;
  std::set<std::string> seen;
  for (const fs::path& dir : sorted_entries(options.data, "test_")) {
    const std::string name = dir.filename().string();
    seen.insert(name);
    if (!options.filter.empty() && name.find(options.filter) == std::string::npos) continue;
    if (skips.contains(name)) {
      ++listed;
      continue;
    }
    std::string error;
    try {
      error = run_test(dir, options.backend);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (error.empty())
      ++passed;
    else if (is_unsupported(error))
      unsupported[name] = error;
    else
      failures[name] = error;
  }
  for (const auto& [name, reason] : skips)
    if (!seen.contains(name)) failures[name] = "listed in the skip list but not in " + options.data.string();

  const std::size_t run = passed + failures.size();
  for (const auto& [name, reason] : failures) std::cout << "FAILED " << name << ": " << reason << "\n";
  std::cout << "ONNX node tests on '" << options.backend << "': run " << run << ", passed " << passed << ", failed "
            << failures.size() << ", skipped-unsupported " << unsupported.size() << ", skipped-listed " << listed
            << "\n";
  if (run < options.min_run) {
    std::cout << "too few tests ran: " << run << " < " << options.min_run << "\n";
    return 1;
  }
  return failures.empty() ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "tern-conformance: " << e.what() << "\n";
  return 2;
}
