#include <tern/backend.hpp>
#include <tern/error.hpp>

#include <cstdlib>
#include <cstring>

namespace tern {
namespace {

// 64-byte alignment suits AVX-512 loads and oneDNN's preferences for host buffers.
constexpr std::size_t host_alignment = 64;

class HostBackend final : public Backend {
public:
  std::string name() const override { return "host"; }
  std::shared_ptr<std::byte> allocate(std::size_t bytes) override {
    const std::size_t rounded =
        (std::max<std::size_t>(bytes, 1) + host_alignment - 1) / host_alignment * host_alignment;
    void* memory = std::aligned_alloc(host_alignment, rounded);
    check(memory != nullptr,
          [&] { return "host backend: out of memory allocating " + std::to_string(bytes) + " bytes"; });
    std::memset(memory, 0, rounded);
    return {static_cast<std::byte*>(memory), [](std::byte* p) { std::free(p); }};
  }
};

} // namespace

void Backend::copy_to_host(const std::byte* src, std::byte* dst, std::size_t bytes) const {
  check(host_accessible(), [&] { return "backend '" + name() + "' does not implement copy_to_host"; });
  std::memcpy(dst, src, bytes);
}

void Backend::copy_from_host(const std::byte* src, std::byte* dst, std::size_t bytes) const {
  check(host_accessible(), [&] { return "backend '" + name() + "' does not implement copy_from_host"; });
  std::memcpy(dst, src, bytes);
}

Backend& host_backend() {
  static HostBackend* backend = new HostBackend; // never destroyed: tensors may outlive main()
  return *backend;
}

} // namespace tern
