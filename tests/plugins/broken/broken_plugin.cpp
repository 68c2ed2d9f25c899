// One source, many deliberately broken plugins: CMake compiles it once per BROKEN_CASE_*.
// The descriptor is written out by hand (not with TERN_PLUGIN) so each field can be wrong.
#include <tern/plugin.hpp>
#include <tern/registry.hpp>

#include <boost/dll/alias.hpp>

namespace {

#ifndef BROKEN_CASE_no_entry
bool probe(std::string& reason) {
#ifdef BROKEN_CASE_unusable
  reason = "no widget accelerator attached (checked /dev/widget0)";
  return false;
#else
  (void)reason;
  return true;
#endif
}

void register_plugin(tern::PluginContext& context) {
  // A working backend whose name is the plugin's, with no kernels: enough to be looked up.
  struct TestBackend final : tern::Backend {
    explicit TestBackend(std::string n) : name_(std::move(n)) {}
    std::string name() const override { return name_; }
    std::shared_ptr<std::byte> allocate(std::size_t bytes) override { return tern::host_backend().allocate(bytes); }
    std::string name_;
  };
  context.add_backend(std::make_shared<TestBackend>(context.plugin_name()));
#if defined(BROKEN_CASE_register_throws) || defined(BROKEN_CASE_claims_core_op)
  // Halfway through: a kernel, an operator and a pass registered, then the failure.
  const auto identity = [](const tern::Node&, std::span<const tern::Tensor>, std::span<tern::Tensor>) {};
  context.add_kernels(context.plugin_name(), {tern::function_kernel("Identity", {tern::KernelInput::any()}, identity)});
  context.add_pass(context.plugin_name() + ".widget", [](tern::Graph&, tern::PassContext&) {});
#endif
#ifdef BROKEN_CASE_register_throws
  context.add_schema({"WidgetOp", 1, 1, 1, 1, {}, [](tern::InferenceContext&) {}, "test.widget"});
  throw tern::Error("widget kernel table is corrupt");
#endif
#ifdef BROKEN_CASE_claims_core_op
  context.add_schema({"Relu", 1, 1, 1, 1, {}, [](tern::InferenceContext&) {}, "test.claims"}); // refused at commit
#endif
}

constexpr std::uint32_t magic =
#ifdef BROKEN_CASE_bad_magic
    0xDEADBEEF;
#else
    tern::plugin_magic;
#endif
constexpr std::uint16_t abi_major = tern::plugin_abi_major
#ifdef BROKEN_CASE_abi_major
                                    + 1
#endif
    ;
constexpr std::uint16_t abi_minor = tern::plugin_abi_minor
#ifdef BROKEN_CASE_abi_minor
                                    + 1
#endif
    ;
constexpr std::uint32_t tern_major = TERN_VERSION_MAJOR
#ifdef BROKEN_CASE_tern_major
                                     + 1
#endif
    ;
// Cut short: the descriptor claims to end before its register function.
constexpr std::uint32_t struct_size = sizeof(tern::PluginDescriptor)
#ifdef BROKEN_CASE_small_descriptor
                                      - 2 * sizeof(void*)
#endif
    ;
#ifdef BROKEN_CASE_compiler_abi
constexpr const char* compiler_abi = "gxx-abi-1002/cxx11-abi-0";
#else
constexpr const char* compiler_abi = TERN_COMPILER_ABI_TAG;
#endif
#if defined(BROKEN_CASE_misnamed)
constexpr const char* plugin_name = "somethingelse";
#elif defined(BROKEN_CASE_good)
constexpr const char* plugin_name = "testgood";
#elif defined(BROKEN_CASE_unusable)
constexpr const char* plugin_name = "testunusable";
#elif defined(BROKEN_CASE_register_throws)
constexpr const char* plugin_name = "testregisterthrows";
#elif defined(BROKEN_CASE_claims_core_op)
constexpr const char* plugin_name = "testclaimscoreop";
#else
constexpr const char* plugin_name = "unchecked"; // refused before the name is read
#endif

const tern::PluginDescriptor* entry() {
  static const tern::PluginDescriptor descriptor{magic,
                                                 struct_size,
                                                 abi_major,
                                                 abi_minor,
                                                 tern_major,
                                                 TERN_VERSION_MINOR,
                                                 TERN_VERSION_PATCH,
                                                 compiler_abi,
                                                 plugin_name,
                                                 "9.9.9",
                                                 "a deliberately broken test plugin",
                                                 tern::PluginKind::Backend,
                                                 probe,
                                                 register_plugin};
  return &descriptor;
}
#endif

} // namespace

#ifndef BROKEN_CASE_no_entry
BOOST_DLL_ALIAS(entry, tern_plugin_descriptor)
#else
// Exports something, just not the entry: a shared library that is not a Tern plugin.
extern "C" __attribute__((visibility("default"))) int not_a_tern_plugin() { return 42; }
#endif
