#pragma once
/// \file backend.hpp
/// A backend owns memory (an allocator) and provides kernels. The core has one built-in
/// backend, "host", for storage only; compute backends ("cpu", "cuda", your own) come
/// from plugins.

#include <cstddef>
#include <memory>
#include <string>

namespace tern {

/// Where tensors live and where kernels run.
class Backend {
public:
  /// Backends are owned and destroyed through this base (by the registry).
  virtual ~Backend() = default;
  /// The name kernels are registered under and users select (compared case-insensitively).
  virtual std::string name() const = 0;
  /// Allocates `bytes` of this backend's memory; freed when the last handle is dropped.
  virtual std::shared_ptr<std::byte> allocate(std::size_t bytes) = 0;
  /// True when the CPU may read and write this backend's memory directly.
  virtual bool host_accessible() const { return true; }
  /// Sets how many threads the backend's kernels may use (0: the default, for cpu OpenMP's:
  /// OMP_NUM_THREADS, else all cores). The count belongs to the backend and applies from
  /// the next forward, on whichever thread runs it. Backends that do not thread ignore it.
  virtual void set_num_threads(int threads) { (void)threads; }
  /// Called on the thread about to run this backend's kernels, once per forward, before the
  /// first of them: applies what threading libraries keep per calling thread (cpu: the
  /// OpenMP thread count), so that any thread may run a plan.
  virtual void enter_thread() {}
  /// Copies `bytes` from this backend's memory to host memory.
  virtual void copy_to_host(const std::byte* src, std::byte* dst, std::size_t bytes) const;
  /// Copies `bytes` from host memory into this backend's memory.
  virtual void copy_from_host(const std::byte* src, std::byte* dst, std::size_t bytes) const;
};

/// The built-in storage-only backend ("host"): aligned host memory, no kernels.
Backend& host_backend();

} // namespace tern
