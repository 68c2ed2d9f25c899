#pragma once
// Which of the native kernels' instruction-set paths run. Only native/*.cpp include this.

namespace tern::cpu::native {

/// AVX2 unless the CPU lacks it or the environment sets TERN_CPU_NO_AVX2 (CTest runs the
/// integer suites so, to check the portable path on CPUs that have AVX2). Always false off
/// x86-64.
bool use_avx2();

} // namespace tern::cpu::native
