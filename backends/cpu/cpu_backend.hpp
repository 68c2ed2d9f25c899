#pragma once
// The "cpu" backend: 64-byte aligned host memory and the thread count of its kernels
// (OpenMP, shared by oneDNN and the native kernels).
//
// OpenMP keeps its thread count per calling thread (omp_set_num_threads sets only the
// caller's), so the count is stored here, in the backend, and applied by enter_thread(),
// which the scheduler calls on the thread about to run a forward: set from any thread, it
// holds on every thread that runs this backend's kernels.

#include <tern/backend.hpp>

#include <atomic>

namespace tern::cpu {

class CpuBackend final : public Backend {
public:
  /// Reads OpenMP's default thread count (OMP_NUM_THREADS, else one per core) on the
  /// constructing thread: what a count of 0 stands for.
  CpuBackend();

  std::string name() const override { return "cpu"; }
  std::shared_ptr<std::byte> allocate(std::size_t bytes) override;
  /// Sets the thread count of this backend's kernels, whichever thread runs them (applied at
  /// the next forward of each thread). 0 (or less) restores the default: OpenMP's default
  /// as the backend was made (OMP_NUM_THREADS when set, else one per core).
  void set_num_threads(int threads) override;
  /// Applies the thread count to the calling thread's OpenMP (omp_set_num_threads).
  void enter_thread() override;
  /// The count enter_thread() applies: the one set, or the default.
  int num_threads() const;

private:
  const int default_threads_;
  std::atomic<int> threads_{0}; ///< as set; 0: the default
};

} // namespace tern::cpu
