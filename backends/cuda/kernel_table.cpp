// The cuda plugin's one registration file: its descriptor, its probe, its backend and its
// kernel table. Loading the library runs no CUDA call (only nvcc's fat-binary registration,
// which does not touch the driver); the probe asks the runtime for a device when
// `tern plugins` or a load by name needs to know.
#include <tern/plugin_export.hpp>

#include "cuda_check.hpp"
#include "ptq_ops.hpp"
#include "range.cuh"

namespace {

using tern::DataType;

/// Usable when the runtime finds a device and this library holds code for it.
bool probe_cuda(std::string& reason) {
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess) {
    reason = "no usable CUDA device: cudaGetDeviceCount failed: " + tern::cuda::error_text(status);
    return false;
  }
  if (devices == 0) {
    reason = "no CUDA device";
    return false;
  }
  if (const cudaError_t loadable = tern::cuda::range_kernel_loadable(); loadable != cudaSuccess) {
    reason = "the CUDA kernels were not built for this device (CMAKE_CUDA_ARCHITECTURES): " +
             tern::cuda::error_text(loadable);
    return false;
  }
  return true;
}

/// One row per operator (what each input accepts, in the node's input order): each
/// factory hands its kernel the backend (for the stream). No row declines nodes; the
/// kernels check their tensors when they run.
tern::KernelDef row(std::string op, std::vector<tern::KernelInput> inputs,
                    const std::shared_ptr<tern::cuda::CudaBackend>& backend,
                    std::unique_ptr<tern::Kernel> (*make)(const tern::Node&, tern::cuda::CudaBackend&)) {
  return {std::move(op), std::move(inputs), [backend, make](const tern::Node& node) { return make(node, *backend); }};
}

void register_cuda(tern::PluginContext& context) {
  const auto backend = std::make_shared<tern::cuda::CudaBackend>();
  context.add_backend(backend);
  context.add_kernels(
      "cuda", {
                  row("PtqRange", {DataType::Float32}, backend, tern::cuda::make_range),
                  row("PtqHistogram", {DataType::Float32, DataType::Float64}, backend, tern::cuda::make_histogram),
                  row("PtqFakeQuantize", {DataType::Float32}, backend, tern::cuda::make_fake_quantize),
                  row("PtqClipSearch", {DataType::Float64}, backend, tern::cuda::make_clip_search),
              });
}

} // namespace

TERN_PLUGIN("cuda", TERN_VERSION_STRING,
            "CUDA backend: PTQ range, histogram, clipping search and fake-quantization kernels",
            tern::PluginKind::Backend, probe_cuda, register_cuda)
