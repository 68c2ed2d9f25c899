// The plugin host's failure paths, each proven with a deliberately broken plugin built by
// tests/plugins/CMakeLists.txt into TERN_TEST_PLUGIN_DIR.
#include <tern/plugin.hpp>
#include <tern/registry.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

namespace {

const std::filesystem::path test_dir = TERN_TEST_PLUGIN_DIR;

class PluginHost : public ::testing::Test {
protected:
  // Each test registers into a registry of its own: no test depends on what another loaded.
  void SetUp() override {
    setenv("TERN_PLUGIN_PATH", TERN_TEST_PLUGIN_DIR, 1);
    scope_.emplace();
  }
  void TearDown() override {
    scope_.reset();
    unsetenv("TERN_PLUGIN_PATH");
  }

  /// Loads `name` expecting a tern::Error that contains every one of `parts`.
  static void expect_refused(const std::string& name, std::initializer_list<std::string> parts) {
    try {
      tern::PluginHost::instance().load(name);
      ADD_FAILURE() << "loading '" << name << "' must fail";
    } catch (const tern::Error& e) {
      for (const std::string& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }

private:
  std::optional<tern::ScopedRegistry> scope_;
};

} // namespace

TEST_F(PluginHost, LoadsAPluginByNameCaseInsensitively) {
  const tern::PluginInfo& info = tern::PluginHost::instance().load("TestGood");
  EXPECT_EQ(info.name, "testgood");
  EXPECT_EQ(info.kind, "backend");
  EXPECT_EQ(info.version, "9.9.9");
  EXPECT_TRUE(info.usable);
  EXPECT_TRUE(info.registered);
  EXPECT_EQ(info.path, std::filesystem::weakly_canonical(test_dir / "libtern-testgood.so"));
  EXPECT_TRUE(tern::PluginHost::instance().is_loaded("TESTGOOD"));
  EXPECT_EQ(&tern::PluginHost::instance().load("testgood"), &info); // loaded once
  EXPECT_NE(tern::find_backend("TestGood"), nullptr);
}

// The fixture's fresh registry is where nothing loaded "testgood" yet.
TEST_F(PluginHost, BackendByNameLoadsItsPluginLazily) {
  EXPECT_EQ(tern::find_backend("testgood"), nullptr);
  EXPECT_EQ(tern::backend("testgood").name(), "testgood");
}

TEST_F(PluginHost, MissingPluginSaysWhereItLookedAndWhatItFound) {
  expect_refused("nosuchthing", {"no plugin named 'nosuchthing'", "libtern-nosuchthing.so", test_dir.string(), "found",
                                 "testgood", "TERN_PLUGIN_PATH"});
}

TEST_F(PluginHost, MissingFolderIsReportedAsMissing) {
  setenv("TERN_PLUGIN_PATH", "/nonexistent/tern-plugins", 1);
  expect_refused("stillmissing", {"/nonexistent/tern-plugins (missing)"});
}

TEST_F(PluginHost, RefusesALibraryWithoutTheEntrySymbol) {
  expect_refused("testnoentry", {"libtern-testnoentry.so", "is not a Tern plugin", "tern_plugin_descriptor"});
}

TEST_F(PluginHost, RefusesAFileThatIsNotALibrary) {
  expect_refused("testgarbage", {"libtern-testgarbage.so", "cannot be loaded"});
  try {
    tern::PluginHost::instance().load("testgarbage");
  } catch (const tern::Error& e) {
    EXPECT_EQ(std::string(e.what()).find("Bad file descriptor"), std::string::npos) << e.what(); // no stray errno text
  }
}

TEST_F(PluginHost, RefusesAWrongMagicNumber) {
  expect_refused("testbadmagic", {"libtern-testbadmagic.so", "wrong magic"});
}

TEST_F(PluginHost, RefusesAnotherPluginAbiMajorNamingBothVersions) {
  const std::string plugin = std::to_string(tern::plugin_abi_major + 1) + "." + std::to_string(tern::plugin_abi_minor);
  const std::string host = std::to_string(tern::plugin_abi_major) + "." + std::to_string(tern::plugin_abi_minor);
  expect_refused("testabimajor", {"libtern-testabimajor.so", "built for plugin ABI " + plugin,
                                  "provides plugin ABI " + host, "rebuild"});
}

TEST_F(PluginHost, RefusesANewerPluginAbiMinor) {
  expect_refused("testabiminor", {"needs plugin ABI " + std::to_string(tern::plugin_abi_major) + "." +
                                      std::to_string(tern::plugin_abi_minor + 1),
                                  "upgrade Tern"});
}

TEST_F(PluginHost, RefusesAnotherTernMajorVersion) {
  expect_refused("testternmajor", {"built against Tern " + std::to_string(TERN_VERSION_MAJOR + 1) + ".",
                                   std::string("this is Tern ") + TERN_VERSION_STRING});
}

TEST_F(PluginHost, RefusesAnotherCompilerAbiNamingBoth) {
  expect_refused("testcompilerabi", {"'gxx-abi-1002/cxx11-abi-0'", std::string("'") + TERN_COMPILER_ABI_TAG + "'"});
}

TEST_F(PluginHost, ReportsTheProbesReasonWhenUnusable) {
  expect_refused("testunusable", {"'testunusable'", "unusable on this machine", "no widget accelerator attached"});
}

TEST_F(PluginHost, RefusesADescriptorShorterThanItsAbiNeeds) {
  expect_refused("testsmalldescriptor", {"libtern-testsmalldescriptor.so", "its descriptor is", "bytes, smaller than"});
}

TEST_F(PluginHost, ReportsAnExceptionFromRegisterAndKeepsNothingItRegistered) {
  expect_refused("testregisterthrows",
                 {"'testregisterthrows'", "failed to register", "widget kernel table is corrupt"});
  // It had added a backend, a kernel, an operator and a pass before throwing: none is visible.
  EXPECT_EQ(tern::find_backend("testregisterthrows"), nullptr);
  EXPECT_TRUE(tern::kernels_of("testregisterthrows").empty());
  EXPECT_EQ(tern::find_schema("WidgetOp"), nullptr);
  EXPECT_EQ(tern::Registry::current().find_pass("testregisterthrows.widget"), nullptr);
  EXPECT_FALSE(tern::PluginHost::instance().is_loaded("testregisterthrows"));
  expect_refused("testregisterthrows", {"failed to register"}); // and stays refused
}

TEST_F(PluginHost, RefusesAPluginClaimingACoreOperatorNamingBothOwners) {
  expect_refused("testclaimscoreop",
                 {"plugin 'testclaimscoreop' registers operator Relu", "the core already registered"});
  EXPECT_EQ(tern::find_backend("testclaimscoreop"), nullptr); // its whole batch was refused
  EXPECT_EQ(tern::find_schema("Relu")->domain, "");           // the core's schema is untouched
}

TEST_F(PluginHost, RegistersIntoEachScopedRegistryAndNothingLeaksOut) {
  {
    tern::ScopedRegistry inner;
    tern::PluginHost::instance().load("testgood");
    EXPECT_NE(tern::find_backend("testgood"), nullptr);
  }
  EXPECT_EQ(tern::find_backend("testgood"), nullptr);
  EXPECT_FALSE(tern::PluginHost::instance().is_loaded("testgood"));
  EXPECT_EQ(tern::backend("testgood").name(), "testgood"); // registers again, into the fixture's registry
}

TEST_F(PluginHost, RefusesADescriptorNamedUnlikeItsFile) {
  expect_refused("testmisnamed", {"names it 'somethingelse'", "'testmisnamed'"});
}

TEST_F(PluginHost, DiscoverListsBrokenPluginsAsUnusableWithoutThrowing) {
  std::vector<tern::PluginInfo> found;
  ASSERT_NO_THROW(found = tern::PluginHost::instance().discover());
  std::map<std::string, tern::PluginInfo> by_file;
  for (const auto& info : found) by_file[info.path.filename().string()] = info;
  ASSERT_TRUE(by_file.contains("libtern-testgood.so"));
  EXPECT_TRUE(by_file["libtern-testgood.so"].usable);
  for (const char* broken : {"libtern-testnoentry.so", "libtern-testgarbage.so", "libtern-testabimajor.so",
                             "libtern-testcompilerabi.so", "libtern-testunusable.so"}) {
    ASSERT_TRUE(by_file.contains(broken)) << broken;
    EXPECT_FALSE(by_file[broken].usable) << broken;
    EXPECT_FALSE(by_file[broken].reason.empty()) << broken;
  }
  EXPECT_TRUE(by_file.contains("libtern-template.so")); // the build tree's plugins come after
}

TEST_F(PluginHost, LoadsFromAnExplicitPath) {
  unsetenv("TERN_PLUGIN_PATH");
  const tern::PluginInfo& info = tern::PluginHost::instance().load_path(test_dir / "libtern-testgood.so");
  EXPECT_EQ(info.name, "testgood");
  EXPECT_THROW(tern::PluginHost::instance().load_path(test_dir / "libtern-absent.so"), tern::Error);
}

TEST_F(PluginHost, SearchOrderIsEnvironmentThenExecutableThenCore) {
  setenv("TERN_PLUGIN_PATH", "/first:/second", 1);
  const auto dirs = tern::PluginHost::instance().search_dirs();
  ASSERT_GE(dirs.size(), 3u);
  EXPECT_EQ(dirs[0], "/first");
  EXPECT_EQ(dirs[1], "/second");
  EXPECT_EQ(dirs.back(), std::filesystem::path(TERN_PLUGIN_BUILD_DIR).lexically_normal());
}
