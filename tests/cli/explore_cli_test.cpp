// `tern explore`: the page it writes (checked here for content; tests/explore drives it in a
// browser) and its refusals: one line, exit code 2, and no page left behind.
#include <tern/tern.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "run_cli.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using tern::test::tern_cli;

namespace {

const std::string resnet = std::string(TERN_SOURCE_DIR) + "/sdk/examples/models/resnet_tiny.onnx";

using Scratch = tern::test::TempDir;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

/// The page's embedded data (the JSON in <script id="tern-data">).
/// (Found with find: std::regex recurses once per character and overflows the stack on a
/// page of this size.)
nlohmann::json page_data(const std::string& page) {
  const std::string open = R"(<script type="application/json" id="tern-data">)";
  const std::size_t start = page.find(open);
  EXPECT_NE(start, std::string::npos);
  const std::size_t end = page.find("</script>", start);
  return nlohmann::json::parse(page.substr(start + open.size(), end - start - open.size()));
}

/// A refusal as the issue promises it: exit code 2, exactly one line, and no page.
void expect_refused(const tern::test::Result& result, const fs::path& page, const std::string& fragment) {
  EXPECT_EQ(result.code, 2) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_NE(result.err.find(fragment), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(page)) << page;
  EXPECT_FALSE(fs::exists(page.string() + ".partial")) << page;
}

} // namespace

TEST(ExploreCli, WritesOneSelfContainedPageWithEveryNode) {
  Scratch scratch;
  const auto result = tern_cli("explore " + resnet + " -o " + (scratch / "r.html").string());
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("Wrote "), std::string::npos);
  const std::string page = read(scratch / "r.html");
  // Self-contained: nothing the browser would fetch.
  for (const char* reference : {"src=\"http", "href=\"http", "url(http", "@import", "fetch(", "XMLHttpRequest"})
    EXPECT_EQ(page.find(reference), std::string::npos) << reference;
  const nlohmann::json data = page_data(page);
  ASSERT_EQ(data["graphs"].size(), 1u);
  const nlohmann::json& nodes = data["graphs"][0]["nodes"];
  // resnet_tiny as exported: 9 Conv, 8 Relu, 3 Add, pool, flatten, Gemm (MODELS.md).
  EXPECT_EQ(nodes.size(), 22u);
  // Graphviz writes the '-' of the box ids as "&#45;" (the browser reads it back as '-').
  for (std::size_t i = 0; i < nodes.size(); ++i)
    EXPECT_NE(page.find("<g id=\"g0&#45;n" + std::to_string(i) + "\" class=\"node\">"), std::string::npos)
        << "node box " << i;
  // The first Conv: 16 filters of 1x3x3 on 28x28 (stride 1, pad 1): 16*28*28*9 MACs.
  EXPECT_EQ(nodes[0]["op"], "Conv");
  EXPECT_EQ(nodes[0]["macs"], 16 * 28 * 28 * 9);
  EXPECT_EQ(nodes[0]["outputs"][0]["shape"], "[?,16,28,28]");
  EXPECT_EQ(nodes[0]["backend"], "cpu");
}

TEST(ExploreCli, ShowsTheReportsSqnrAndListsUnmatchedNodes) {
  Scratch scratch;
  write(scratch / "r.json", R"({"format": "tern.quantize_report", "version": 1, "nodes": [
      {"node": "/stem/stem.0/Conv", "sqnr_db": {"alone": 41.5, "network": 38.25}, "clip": 2.5,
       "range": [-1, 3], "histogram": {"bin_width": 0.5, "counts": [4, 2, 1]},
       "weight_histogram": {"bin_width": 0.125, "counts": [9, 1]}},
      {"node": "no such node", "sqnr_db": {"network": 12}}]})");
  const auto result = tern_cli("explore " + resnet + " --report " + (scratch / "r.json").string() + " -o " +
                               (scratch / "r.html").string());
  ASSERT_EQ(result.code, 0) << result.err;
  const nlohmann::json data = page_data(read(scratch / "r.html"));
  EXPECT_EQ(data["report"]["unmatched"], nlohmann::json::array({"no such node"}));
  const nlohmann::json& stem = data["graphs"][0]["nodes"][0];
  EXPECT_EQ(stem["name"], "/stem/stem.0/Conv");
  EXPECT_EQ(stem["report"]["sqnr_db"]["network"], 38.25);
  EXPECT_EQ(stem["ranges"][0]["clip"], 2.5);
  EXPECT_EQ(stem["histograms"][0]["value"], "/stem/stem.0/Conv_output_0");
  EXPECT_EQ(stem["histograms"][0]["counts"], nlohmann::json::array({4, 2, 1}));
  EXPECT_EQ(stem["histograms"][1]["value"], "onnx::Conv_89"); // its weights, as the export named them
  EXPECT_EQ(stem["histograms"][1]["counts"], nlohmann::json::array({9, 1}));
}

TEST(ExploreCli, AMalformedReportIsOneLineAndNoPage) {
  Scratch scratch;
  const fs::path page = scratch / "r.html";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"{\"format\": ", "not a JSON file"},
      {"[1, 2]", "the top level is not an object"},
      {R"({"format": "something else", "version": 1, "nodes": []})", "'format' is not \"tern.quantize_report\""},
      {R"({"format": "tern.quantize_report", "version": 2, "nodes": []})", "'version' is not 1"},
      {R"({"format": "tern.quantize_report", "version": 1})", "has no 'nodes'"},
      {R"({"format": "tern.quantize_report", "version": 1, "nodes": [{"node": "a"}]})", "nodes[0] has no 'sqnr_db'"},
      {R"({"format": "tern.quantize_report", "version": 1, "nodes": [{"node": "a", "sqnr_db": {"alone": "x"}}]})",
       "nodes[0].sqnr_db.alone is not a number"},
      {R"({"format": "tern.quantize_report", "version": 1, "nodes": [{"node": "a", "sqnr_db": {"alone": 1},
          "histogram": {"bin_width": 0, "counts": []}}]})",
       "nodes[0].histogram is not"},
      {R"({"format": "tern.quantize_report", "version": 1, "nodes": [{"node": "a", "sqnr_db": {"alone": 1}},
          {"node": "a", "sqnr_db": {"alone": 2}}]})",
       "nodes[1] repeats node 'a'"}};
  for (const auto& [text, fragment] : cases) {
    write(scratch / "bad.json", text);
    expect_refused(
        tern_cli("explore " + resnet + " --report " + (scratch / "bad.json").string() + " -o " + page.string()), page,
        (scratch / "bad.json").string() + ": ");
    expect_refused(
        tern_cli("explore " + resnet + " --report " + (scratch / "bad.json").string() + " -o " + page.string()), page,
        fragment);
  }
  expect_refused(
      tern_cli("explore " + resnet + " --report " + (scratch / "missing.json").string() + " -o " + page.string()), page,
      "missing.json");
}

TEST(ExploreCli, AModelThatFailsToLoadIsOneLineAndNoPage) {
  Scratch scratch;
  write(scratch / "broken.onnx", "not a protobuf");
  const fs::path page = scratch / "broken.html";
  expect_refused(tern_cli("explore " + (scratch / "broken.onnx").string() + " -o " + page.string()), page,
                 "broken.onnx");
  expect_refused(
      tern_cli("explore " + resnet + " --compare " + (scratch / "broken.onnx").string() + " -o " + page.string()), page,
      "broken.onnx");
}

TEST(ExploreCli, WithoutGraphvizItSaysWhatToInstall) {
  Scratch scratch;
  const fs::path page = scratch / "r.html";
  expect_refused(tern_cli("explore " + resnet + " -o " + page.string(), "TERN_DOT=/nonexistent/dot"), page,
                 "cannot run Graphviz's '/nonexistent/dot' program");
  // A `dot` that fails: its first line of error output is in the message.
  write(scratch / "dot", "#!/bin/sh\necho 'Error: layout exploded' >&2\necho 'second line' >&2\nexit 3\n");
  fs::permissions(scratch / "dot", fs::perms::owner_all);
  expect_refused(tern_cli("explore " + resnet + " -o " + page.string(), "TERN_DOT=" + (scratch / "dot").string()), page,
                 "failed to lay out the graph: Error: layout exploded");
}

TEST(ExploreCli, QuantizeWritesBeforeAndAfterPages) {
  Scratch scratch;
  const auto result = tern_cli("quantize " + resnet + " -o " + (scratch / "q.onnx").string() +
                               " --calib-size 8 --explore " + (scratch / "pages").string());
  ASSERT_EQ(result.code, 0) << result.err;
  const nlohmann::json before = page_data(read(scratch / "pages" / "before.html"));
  const nlohmann::json after = page_data(read(scratch / "pages" / "after.html"));
  EXPECT_EQ(before["graphs"][0]["summary"]["precisions"], nlohmann::json({{"float32", 22}}));
  // After: integer Conv nodes carrying the range, clip and scale their output was given.
  bool found = false;
  for (const nlohmann::json& node : after["graphs"][0]["nodes"])
    if (node["name"] == "/stem/stem.0/Conv") {
      found = true;
      // Its ReLU's values, never negative, run as uint8 (prepare_for_inference's
      // unsigned_activations): the page shows the graph as it runs.
      EXPECT_EQ(node["precision"], "uint8");
      EXPECT_EQ(node["outputs"][0]["dtype"], "uint8");
      EXPECT_TRUE(node["quantization"].contains("quantization.ptq.clip"));
      EXPECT_TRUE(node["quantization"].contains("quantization.ptq.scale"));
    }
  EXPECT_TRUE(found);
  // The page shows the graph as it runs: each residual Add of the integer graph (int32
  // terms of two 8-bit branches, summed, requantized) as one RequantizeAdd of 8-bit values.
  int adds = 0;
  for (const nlohmann::json& node : after["graphs"][0]["nodes"]) {
    EXPECT_NE(node["op"], "Add") << node["name"];
    if (node["op"] == "RequantizeAdd") {
      ++adds;
      EXPECT_EQ(node["inputs"].size(), 2u) << node["name"];
      EXPECT_TRUE(node["precision"] == "uint8" || node["precision"] == "int8") << node["name"];
    }
  }
  EXPECT_EQ(adds, 3);
}

TEST(ExploreCli, AFakeQuantizedGraphShowsThePrecisionItsValuesHave) {
  Scratch scratch;
  const auto result =
      tern_cli("quantize " + resnet + " -o " + (scratch / "q.onnx").string() +
               " --calib-size 8 --fake --weights int4 --activations int4 --accumulation int16 --explore " +
               (scratch / "pages").string());
  ASSERT_EQ(result.code, 0) << result.err;
  const nlohmann::json after = page_data(read(scratch / "pages" / "after.html"));
  int convs = 0;
  for (const nlohmann::json& node : after["graphs"][0]["nodes"])
    if (node["op"] == "Conv") {
      ++convs;
      EXPECT_EQ(node["outputs"][0]["dtype"], "float32"); // integers held in floats
      EXPECT_EQ(node["precision"], "int4") << node["name"];
    }
  EXPECT_EQ(convs, 9);
}

TEST(ExploreApi, AGraphInMemoryHasItsPageToo) {
  Scratch scratch;
  tern::Graph graph;
  graph.add_input("x", tern::DataType::Float32, tern::Shape{2, 3});
  graph.add_node("Relu", {"x"}, {"y"}, {}, "relu");
  graph.add_output("y");
  tern::ExploreOptions options;
  options.title = "tiny";
  options.backends = {};
  tern::explore(graph, scratch / "tiny.html", options);
  const nlohmann::json data = page_data(read(scratch / "tiny.html"));
  EXPECT_EQ(data["title"], "tiny");
  const nlohmann::json& relu = data["graphs"][0]["nodes"][0];
  EXPECT_EQ(relu["name"], "relu");
  EXPECT_EQ(relu["outputs"][0]["shape"], "[2,3]");
  EXPECT_EQ(relu["backend"], nullptr); // no backend list: no placement
}
