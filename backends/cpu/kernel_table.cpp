// The cpu plugin's one registration file: its descriptor, its backend and its kernel
// table. Each row: op type, input dtypes (absent optional inputs skipped), factory.
// Nothing runs at load time; oneDNN's engine is made on the first kernel's first run.
#include <tern/plugin_export.hpp>

#include "cpu_backend.hpp"
#include "dnnl/dnnl_ops.hpp"
#include "native/native_ops.hpp"

namespace {

using tern::DataType;
constexpr DataType f32 = DataType::Float32;

std::vector<tern::KernelDef> kernel_table() {
  return {
      // --- oneDNN primitives (backends/cpu/dnnl) ---------------------------------------
      // --- native kernels (backends/cpu/native) ---------------------------------------
  };
}

void register_cpu(tern::PluginContext& context) {
  context.add_backend(std::make_shared<tern::cpu::CpuBackend>());
  context.add_kernels("cpu", kernel_table());
}

} // namespace

TERN_PLUGIN("cpu", TERN_VERSION_STRING, "CPU backend: oneDNN primitives and native kernels", tern::PluginKind::Backend,
            nullptr, register_cpu)
