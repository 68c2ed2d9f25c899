// End-to-end: runs the built `tern` executable as a user would and checks exit codes,
// text, and that --json prints exactly one JSON object on stdout.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <tern/plugin.hpp>

#include "run_cli.hpp"

using tern::test::Result;
using tern::test::tern_cli;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

} // namespace

TEST(Cli, VersionPrintsTheVersion) {
  const Result text = tern_cli("--version");
  EXPECT_EQ(text.code, 0);
  EXPECT_TRUE(contains(text.out, "tern 0.")) << text.out;
  const Result json = tern_cli("version --json");
  EXPECT_EQ(json.code, 0);
  const auto parsed = nlohmann::json::parse(json.out);
  EXPECT_EQ(parsed["plugin_abi"],
            std::to_string(tern::plugin_abi_major) + "." + std::to_string(tern::plugin_abi_minor));
  EXPECT_TRUE(parsed["version"].is_string());
}

TEST(Cli, PluginsListsTheTemplatePluginAsUsable) {
  const Result result = tern_cli("plugins");
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "template")) << result.out;
  EXPECT_TRUE(contains(result.out, "usable")) << result.out;
}

TEST(Cli, PluginsJsonHasTheDocumentedShape) {
  const Result result = tern_cli("plugins --json");
  ASSERT_EQ(result.code, 0) << result.err;
  const auto parsed = nlohmann::json::parse(result.out); // exactly one object, nothing else
  ASSERT_TRUE(parsed["plugins"].is_array());
  ASSERT_TRUE(parsed["searched"].is_array());
  bool found = false;
  for (const auto& plugin : parsed["plugins"]) {
    for (const char* key : {"name", "kind", "version", "path", "usable", "reason"})
      EXPECT_TRUE(plugin.contains(key)) << key;
    if (plugin["name"] == "template") {
      found = true;
      EXPECT_EQ(plugin["usable"], true);
      EXPECT_EQ(plugin["kind"], "backend");
    }
  }
  EXPECT_TRUE(found) << result.out;
  EXPECT_TRUE(contains(result.err, "Searched")); // human text went to stderr
}

TEST(Cli, PluginsWithAMissingPluginPathStillWorksAndSaysWhereItLooked) {
  const Result text = tern_cli("plugins", "TERN_PLUGIN_PATH=/nonexistent");
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_TRUE(contains(text.out, "/nonexistent  (missing)")) << text.out;
  EXPECT_TRUE(contains(text.out, "template")) << text.out;
  const Result json = tern_cli("plugins --json", "TERN_PLUGIN_PATH=/nonexistent");
  const auto parsed = nlohmann::json::parse(json.out);
  EXPECT_EQ(parsed["searched"][0], "/nonexistent");
}

TEST(Cli, DemoRunsAndChecksItself) {
  const Result result = tern_cli("demo");
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "Loaded backend 'template'")) << result.out;
  EXPECT_TRUE(contains(result.out, "matches max(x, 0)")) << result.out;
  EXPECT_FALSE(contains(result.out, "DIFFERS")) << result.out;
}

TEST(Cli, DemoJsonReportsEveryRun) {
  const Result result = tern_cli("demo --json --batch 5");
  ASSERT_EQ(result.code, 0) << result.err;
  const auto parsed = nlohmann::json::parse(result.out);
  ASSERT_EQ(parsed["runs"].size(), 2u);
  EXPECT_EQ(parsed["runs"][1]["batch"], 5);
  EXPECT_EQ(parsed["runs"][1]["output"].size(), 30u);
  for (const auto& run : parsed["runs"]) EXPECT_EQ(run["matches_reference"], true);
  EXPECT_LT(parsed["buffers"].get<int>(), 3);
}

TEST(Cli, UnknownBackendIsAOneLineErrorWithExitCode2) {
  const Result result = tern_cli("demo --backend nosuchbackend");
  EXPECT_EQ(result.code, 2);
  EXPECT_TRUE(contains(result.err, "tern: error: no plugin named 'nosuchbackend'")) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  const Result json = tern_cli("demo --json --backend nosuchbackend");
  EXPECT_EQ(json.code, 2);
  EXPECT_TRUE(contains(nlohmann::json::parse(json.out)["error"].get<std::string>(), "nosuchbackend"));
}

TEST(Cli, BadUsageExitsWith2) {
  EXPECT_EQ(tern_cli("").code, 2);
  const Result unknown = tern_cli("frobnicate");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_TRUE(contains(unknown.err, "unknown command 'frobnicate'")) << unknown.err;
  const Result option = tern_cli("plugins --colour red");
  EXPECT_EQ(option.code, 2);
  EXPECT_TRUE(contains(option.err, "colour")) << option.err;
  EXPECT_EQ(tern_cli("demo --batch 0").code, 2);
  EXPECT_EQ(tern_cli("demo --batch notanumber").code, 2);
}

TEST(Cli, EverySubcommandHasHelpMentioningJson) {
  for (const char* command : {"version", "plugins", "demo"}) {
    const Result result = tern_cli(std::string(command) + " --help");
    EXPECT_EQ(result.code, 0) << command;
    EXPECT_TRUE(contains(result.out, "--json")) << command << ": " << result.out;
  }
  const Result top = tern_cli("--help");
  EXPECT_EQ(top.code, 0);
  EXPECT_TRUE(contains(top.out, "plugins")) << top.out;
}
