#pragma once
// The "cuda" kernels of the PTQ statistics operators (schemas: the core's
// ops/ptq_statistics.cpp): each checks its tensors, then launches its .cu kernel on the
// backend's stream. Results stay on the device until someone copies them.

#include "cuda_backend.hpp"

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

#include <memory>

namespace tern::cuda {

std::unique_ptr<Kernel> make_range(const Node& node, CudaBackend& backend);
std::unique_ptr<Kernel> make_histogram(const Node& node, CudaBackend& backend);
std::unique_ptr<Kernel> make_fake_quantize(const Node& node, CudaBackend& backend);
std::unique_ptr<Kernel> make_clip_search(const Node& node, CudaBackend& backend);

} // namespace tern::cuda
