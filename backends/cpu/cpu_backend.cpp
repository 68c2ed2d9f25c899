#include "cpu_backend.hpp"

#include <omp.h>

#include <algorithm>

namespace tern::cpu {

CpuBackend::CpuBackend() : default_threads_(std::max(omp_get_max_threads(), 1)) {}

std::shared_ptr<std::byte> CpuBackend::allocate(std::size_t bytes) { return host_backend().allocate(bytes); }

void CpuBackend::set_num_threads(int threads) { threads_.store(std::max(threads, 0), std::memory_order_relaxed); }

int CpuBackend::num_threads() const {
  const int threads = threads_.load(std::memory_order_relaxed);
  return threads > 0 ? threads : default_threads_;
}

void CpuBackend::enter_thread() { omp_set_num_threads(num_threads()); }

} // namespace tern::cpu
