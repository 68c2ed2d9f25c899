// The plugin's one registration file: its descriptor, its backend and its kernel table.
// Nothing runs when the library is loaded; Tern calls register_naive() the first time
// someone asks for the backend "naive" by name.
#include <tern/plugin_export.hpp>

#include "kernels.hpp"

namespace {

/// Host memory under the name "naive": kernels read and write tensors directly, so the
/// scheduler needs no copies between this backend and "cpu".
class NaiveBackend final : public tern::Backend {
public:
  std::string name() const override { return "naive"; }
  std::shared_ptr<std::byte> allocate(std::size_t bytes) override { return tern::host_backend().allocate(bytes); }
};

void register_naive(tern::PluginContext& context) {
  using tern::function_kernel;
  constexpr auto f32 = tern::DataType::Float32;
  const auto optional_f32 = tern::KernelInput(f32).optional();
  context.add_backend(std::make_shared<NaiveBackend>());
  // One row per op: what each input accepts (in the node's input order; Conv's bias B and
  // Gemm's C may be absent), the kernel, and for kernels that run only some nodes of their
  // op the check that declines the others with a reason. A node this table lacks or
  // declines runs on the next backend of the user's preference list (--backend naive,cpu),
  // or fails with the reasons (`tern info --backend naive,cpu` lists them).
  context.add_kernels("naive", {
                                   function_kernel("Conv", {f32, f32, optional_f32}, naive::conv, naive::conv_support),
                                   function_kernel("Relu", {f32}, naive::relu),
                                   function_kernel("MaxPool", {f32}, naive::max_pool, naive::max_pool_support),
                                   function_kernel("Flatten", {f32}, naive::flatten),
                                   function_kernel("Gemm", {f32, f32, optional_f32}, naive::gemm, naive::gemm_support),
                               });
}

} // namespace

TERN_PLUGIN("naive", "1.0.0", "out-of-tree example backend: plain C++ loops for the example ConvNet",
            tern::PluginKind::Backend, nullptr, register_naive)
