#include "cpu_backend.hpp"

#include <omp.h>

namespace tern::cpu {

std::shared_ptr<std::byte> CpuBackend::allocate(std::size_t bytes) { return host_backend().allocate(bytes); }

void CpuBackend::set_num_threads(int threads) { omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs()); }

} // namespace tern::cpu
