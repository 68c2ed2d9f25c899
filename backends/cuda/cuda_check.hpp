#pragma once
// Every CUDA runtime call of the plugin goes through cuda_check: a failure becomes a
// tern::Error naming the call, the CUDA error name and its text.

#include <cuda_runtime_api.h>

#include <string>

namespace tern::cuda {

/// "<error name>: <error text>", e.g. "cudaErrorInsufficientDriver: CUDA driver version is ...".
std::string error_text(cudaError_t status);

/// Throws tern::Error("cuda: <what> failed: <error_text>") unless `status` is cudaSuccess.
void cuda_check(cudaError_t status, const std::string& what);

} // namespace tern::cuda
