#include "cuda_check.hpp"

#include <tern/error.hpp>

namespace tern::cuda {

std::string error_text(cudaError_t status) {
  return std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
}

void cuda_check(cudaError_t status, const std::string& what) {
  if (status != cudaSuccess) throw Error("cuda: " + what + " failed: " + error_text(status));
}

} // namespace tern::cuda
