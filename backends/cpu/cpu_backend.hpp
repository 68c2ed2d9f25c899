#pragma once
// The "cpu" backend: 64-byte aligned host memory and the thread count of its kernels
// (OpenMP, shared by oneDNN and the native kernels).

#include <tern/backend.hpp>

namespace tern::cpu {

class CpuBackend final : public Backend {
public:
  std::string name() const override { return "cpu"; }
  std::shared_ptr<std::byte> allocate(std::size_t bytes) override;
  /// 0 restores the default: every core.
  void set_num_threads(int threads) override;
};

} // namespace tern::cpu
