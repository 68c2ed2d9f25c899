#include "graphviz.hpp"

#include "../file_bytes.hpp"
#include "node_facts.hpp"

#include <tern/error.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

extern char** environ;

namespace tern::explore_page {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// A DOT double-quoted string: quotes and backslashes escaped, a line break as DOT's "\n",
/// other control characters dropped.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '\n') out += "\\n";
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

/// Fill colours by precision (the page's legend uses the same).
std::string fill_of(const NodeLook& look) {
  if (look.quantizer) return "#fde0ef";
  static const std::map<std::string, std::string> fills{{"int8", "#c7e9c0"},  {"uint8", "#c7e9c0"},
                                                        {"int4", "#fdd0a2"},  {"uint4", "#fdd0a2"},
                                                        {"int16", "#dadaeb"}, {"int32", "#bcbddc"}};
  const auto it = fills.find(look.precision);
  return it == fills.end() ? "#dbe7f3" : it->second;
}

std::string edge_label(const json& value) {
  return value["dtype"].get<std::string>() + value["shape"].get<std::string>();
}

/// A scratch folder removed on scope exit.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "tern-explore.XXXXXX").string();
    check(mkdtemp(pattern.data()) != nullptr,
          [&] { return "cannot create a scratch folder in " + fs::temp_directory_path().string(); });
    path = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

} // namespace

std::string to_dot(const json& facts, int index) {
  const std::string prefix = "g" + std::to_string(index) + "-";
  std::ostringstream dot;
  dot << "digraph tern {\n"
         "  graph [rankdir=TB, nodesep=0.3, ranksep=0.4, fontname=\"Helvetica\", bgcolor=\"transparent\"];\n"
         "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, color=\"#555555\"];\n"
         "  edge [fontname=\"Helvetica\", fontsize=8, color=\"#888888\", fontcolor=\"#555555\"];\n";
  std::map<std::string, std::string> producer; // value name -> DOT node id
  std::map<std::string, const json*> value_of;
  const json& nodes = facts["nodes"];
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const json& node = nodes[i];
    const NodeLook look = look_of(node);
    const std::string id = prefix + "n" + std::to_string(i);
    dot << "  " << quoted(id) << " [id=" << quoted(id)
        << ", label=" << quoted(node["op"].get<std::string>() + "\n" + node["name"].get<std::string>())
        << ", fillcolor=" << quoted(fill_of(look)) << (look.quantizer ? ", style=\"rounded,filled,dashed\"" : "")
        << "];\n";
    for (const json& output : node["outputs"]) {
      producer[output["name"]] = id;
      value_of[output["name"]] = &output;
    }
  }
  // Graph inputs: values read by nodes that no node produces and that are not constants.
  std::map<std::string, std::string> inputs;
  for (const json& node : nodes)
    for (const json& input : node["inputs"])
      if (!input["constant"].get<bool>() && !producer.contains(input["name"]) && !inputs.contains(input["name"])) {
        const std::string id = prefix + "in" + std::to_string(inputs.size());
        inputs[input["name"]] = id;
        dot << "  " << quoted(id) << " [id=" << quoted(id) << ", shape=ellipse, style=filled, fillcolor=\"#ffffff\", "
            << "label=" << quoted(input["name"].get<std::string>() + "\n" + edge_label(input)) << "];\n";
        producer[input["name"]] = id;
        value_of[input["name"]] = &input;
      }
  for (std::size_t i = 0; i < nodes.size(); ++i)
    for (const json& input : nodes[i]["inputs"])
      if (const auto from = producer.find(input["name"]); from != producer.end())
        dot << "  " << quoted(from->second) << " -> " << quoted(prefix + "n" + std::to_string(i))
            << " [label=" << quoted(" " + edge_label(input)) << "];\n";
  for (std::size_t i = 0; i < facts["outputs"].size(); ++i) {
    const std::string name = facts["outputs"][i];
    const std::string id = prefix + "out" + std::to_string(i);
    dot << "  " << quoted(id) << " [id=" << quoted(id) << ", shape=ellipse, style=filled, fillcolor=\"#ffffff\", "
        << "label=" << quoted(name + (value_of.contains(name) ? "\n" + edge_label(*value_of[name]) : "")) << "];\n";
    if (producer.contains(name)) dot << "  " << quoted(producer[name]) << " -> " << quoted(id) << ";\n";
  }
  dot << "}\n";
  return dot.str();
}

std::string render_svg(const std::string& dot) {
  const char* configured = std::getenv("TERN_DOT");
  std::string program = configured && *configured ? configured : "dot";
  ScratchDir scratch;
  const fs::path in = scratch.path / "graph.dot", out = scratch.path / "graph.svg", err = scratch.path / "dot.err";
  std::ofstream(in, std::ios::binary) << dot;

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::string tsvg = "-Tsvg", output = "-o" + out.string(), input = in.string();
  std::vector<char*> argv{program.data(), tsvg.data(), output.data(), input.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  check(spawned == 0, [&] {
    return "cannot run Graphviz's '" + program + "' program (" + std::strerror(spawned) +
           "): install graphviz (scripts/setup-deps.sh does), or set TERN_DOT to its path";
  });
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  check(ok, [&] {
    std::string first_line = detail::read_file_bytes(err);
    first_line = first_line.substr(0, first_line.find('\n'));
    return "Graphviz's '" + program + "' failed to lay out the graph" +
           (first_line.empty() ? std::string() : ": " + first_line);
  });
  std::string svg = detail::read_file_bytes(out);
  const std::size_t start = svg.find("<svg");
  check(start != std::string::npos, [&] { return "Graphviz's '" + program + "' wrote no SVG"; });
  return svg.substr(start);
}

} // namespace tern::explore_page
