// tern::Runtime: listing backends, loading one by name, mixed-backend plans with the
// reason each node left its preferred backend, and the explicit copies the plan inserts
// between backends that do not share memory.
#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "reference_backend.hpp"

namespace {

/// A backend whose memory the CPU may not touch directly (like a GPU's): the scheduler must
/// copy values in and out explicitly. Its memory is host memory underneath, so the test
/// can check it, but Tensor::data() refuses it like real device memory.
class FarawayBackend final : public tern::Backend {
public:
  std::string name() const override { return "faraway"; }
  std::shared_ptr<std::byte> allocate(std::size_t bytes) override { return tern::host_backend().allocate(bytes); }
  bool host_accessible() const override { return false; }
  void copy_to_host(const std::byte* src, std::byte* dst, std::size_t bytes) const override {
    std::memcpy(dst, src, bytes);
  }
  void copy_from_host(const std::byte* src, std::byte* dst, std::size_t bytes) const override {
    std::memcpy(dst, src, bytes);
  }
};

/// Backends in which each kernel ran, by node, for the last forward.
std::map<std::string, std::string>& input_backends() {
  static std::map<std::string, std::string> seen;
  return seen;
}

/// Registers "faraway" with a Neg kernel that records where its input lived.
void register_faraway() {
  static const bool once = [] {
    tern::register_backend(std::make_shared<FarawayBackend>());
    tern::register_kernels("faraway", {tern::function_kernel("Neg", {tern::DataType::Float32},
                                                             [](const tern::Node& node, auto in, auto out) {
                                                               input_backends()[node.name()] = in[0].backend().name();
                                                               const auto* x = static_cast<const float*>(in[0].raw());
                                                               auto* y = static_cast<float*>(out[0].raw());
                                                               for (std::int64_t i = 0; i < in[0].numel(); ++i)
                                                                 y[i] = -x[i];
                                                             })});
    return true;
  }();
  (void)once;
}

/// x -> Neg("n1") -> Relu("r") -> Neg("n2") -> y, that is y = -relu(-x).
tern::Graph neg_relu_neg() {
  tern::Graph graph;
  graph.add_input("x", tern::DataType::Float32, tern::Shape{tern::Shape::dynamic, 4});
  graph.add_node("Neg", {"x"}, {"a"}, {}, "n1");
  graph.add_node("Relu", {"a"}, {"b"}, {}, "r");
  graph.add_node("Neg", {"b"}, {"y"}, {}, "n2");
  graph.add_output("y");
  return graph;
}

TEST(Runtime, ListsPluginBackendsWithoutLoadingThem) {
  tern::test::register_reference_backend();
  const auto backends = tern::Runtime::available_backends();
  const auto find = [&](const std::string& name) {
    return std::find_if(backends.begin(), backends.end(), [&](const tern::BackendInfo& b) { return b.name == name; });
  };
  ASSERT_NE(find("cpu"), backends.end());
  EXPECT_TRUE(find("cpu")->usable);
  EXPECT_NE(find("cpu")->source.find("libtern-cpu.so"), std::string::npos);
  ASSERT_NE(find("reference"), backends.end());
  EXPECT_EQ(find("reference")->source, "in-process");
  EXPECT_TRUE(find("reference")->loaded);
  EXPECT_EQ(find("host"), backends.end()) << "the storage-only host backend has no kernels to offer";
  EXPECT_EQ(find("onnx"), backends.end()) << "format plugins are not backends";
}

TEST(Runtime, LoadsBackendByNameOrSaysWhereItLooked) {
  EXPECT_EQ(tern::Runtime::load_backend("TEMPLATE").name(), "template");
  try {
    tern::Runtime::load_backend("nosuchbackend");
    FAIL() << "expected an error";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find("libtern-nosuchbackend.so"), std::string::npos) << e.what();
  }
}

TEST(Runtime, MixesBackendsAndSaysWhyANodeLeftThePreferredOne) {
  tern::test::register_reference_backend();
  register_faraway();
  tern::Runtime runtime(neg_relu_neg(), {"template", "faraway", "reference"});
  EXPECT_EQ(runtime.backend_of("n1"), "faraway");
  EXPECT_EQ(runtime.backend_of("r"), "template");
  EXPECT_EQ(runtime.backend_of("n2"), "faraway");
  const auto placements = runtime.placements();
  ASSERT_EQ(placements.size(), 3u);
  EXPECT_EQ(placements[0].op_type, "Neg");
  ASSERT_EQ(placements[0].skipped.size(), 1u);
  EXPECT_EQ(placements[0].skipped[0], "template: no Neg kernel for (float32)");
  EXPECT_TRUE(placements[1].skipped.empty());
  EXPECT_THROW(runtime.backend_of("nosuchnode"), tern::Error);
}

TEST(Runtime, CopiesValuesIntoAndOutOfABackendThatDoesNotShareMemory) {
  register_faraway();
  tern::Runtime runtime(neg_relu_neg(), {"template", "faraway"});
  input_backends().clear();
  const auto outputs = runtime.run({tern::Tensor::from_floats({2, 4}, {1, -2, 3, -4, -5, 6, -7, 8})});
  // Both Negs saw their input copied into faraway memory; the Relu between them reads
  // host memory only (template's kernel refuses anything else), so it got a host copy.
  EXPECT_EQ(input_backends()["n1"], "faraway");
  EXPECT_EQ(input_backends()["n2"], "faraway");
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].backend().name(), "faraway");
  EXPECT_EQ(outputs[0].to_doubles(), (std::vector<double>{0, -2, 0, -4, -5, 0, -7, 0}));
}

TEST(Runtime, NamesTheNodeNoBackendCanRun) {
  try {
    tern::Runtime runtime(neg_relu_neg(), {"template"});
    FAIL() << "expected an error";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'n1' (Neg)"), std::string::npos) << e.what();
  }
}

} // namespace
