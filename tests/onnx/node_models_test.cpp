// Every ONNX node-test model (Debian's libonnx-testdata) goes through tern::load_model:
// none may crash; each loads or is refused with a tern::Error. The refusals other than
// "unsupported op types" are printed: they show where opset normalisation falls short.
#include "model_builder.hpp"

#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>

namespace tern::onnx_test {
namespace {

namespace fs = std::filesystem;

TEST(OnnxNodeModels, EachLoadsOrIsRefusedCleanly) {
  const fs::path root = TERN_ONNX_NODE_TESTS;
  if (!fs::is_directory(root)) GTEST_SKIP() << root << " is not installed (libonnx-testdata)";
  std::vector<fs::path> models;
  for (const fs::directory_entry& entry : fs::directory_iterator(root))
    if (fs::exists(entry.path() / "model.onnx")) models.push_back(entry.path() / "model.onnx");
  std::sort(models.begin(), models.end());
  ASSERT_GT(models.size(), 100u);

  std::size_t loaded = 0;
  std::size_t unsupported = 0;
  std::map<std::string, std::string> refused; // test name -> reason
  for (const fs::path& model : models) {
    const std::string test = model.parent_path().filename().string();
    try {
      const Graph graph = load_model(model);
      EXPECT_FALSE(graph.outputs().empty()) << test;
      ++loaded;
    } catch (const Error& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.rfind(model.string() + ": ", 0), 0u) << "the error does not name the file: " << message;
      if (message.find("unsupported op type") != std::string::npos)
        ++unsupported;
      else
        refused[test] = message.substr(model.string().size() + 2);
    } catch (const std::exception& error) {
      ADD_FAILURE() << test << ": not a tern::Error: " << error.what();
    }
  }
  std::cout << "ONNX node tests: " << models.size() << " models, " << loaded << " loaded, " << unsupported
            << " use op types Tern has no schema for, " << refused.size() << " refused otherwise:\n";
  for (const auto& [test, reason] : refused) std::cout << "  " << test << ": " << reason << "\n";
  // Models whose ops all have schemas mostly load; a collapse means the importer broke.
  EXPECT_GT(loaded, 20u);
}

} // namespace
} // namespace tern::onnx_test
