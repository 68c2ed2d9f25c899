#include "native/cpu_features.hpp"

#include <cstdlib>

namespace tern::cpu::native {

bool use_avx2() {
#if defined(__x86_64__)
  static const bool avx2 = __builtin_cpu_supports("avx2") && std::getenv("TERN_CPU_NO_AVX2") == nullptr;
  return avx2;
#else
  return false;
#endif
}

} // namespace tern::cpu::native
