// Library-wide calls: status names, the version, the backends a host can choose from.
#include "handles.hpp"

#include <tern/version.hpp>

#include <algorithm>
#include <cstring>

using tern::capi::guard;

TERN_C_EXPORT const char* tern_status_name(tern_status status) {
  switch (status) {
  case TERN_OK: return "TERN_OK";
  case TERN_INVALID_ARGUMENT: return "TERN_INVALID_ARGUMENT";
  case TERN_LOAD_FAILED: return "TERN_LOAD_FAILED";
  case TERN_BACKEND_FAILED: return "TERN_BACKEND_FAILED";
  case TERN_RUN_FAILED: return "TERN_RUN_FAILED";
  case TERN_OUT_OF_MEMORY: return "TERN_OUT_OF_MEMORY";
  case TERN_INTERNAL_ERROR: return "TERN_INTERNAL_ERROR";
  }
  return "unknown status";
}

TERN_C_EXPORT const char* tern_version(void) { return tern::version(); }

TERN_C_EXPORT tern_status tern_available_backends(char* buffer, size_t capacity, size_t* length) {
  return guard(TERN_BACKEND_FAILED, [&] {
    tern::capi::require(buffer != nullptr || capacity == 0, "tern_available_backends: buffer is NULL");
    std::string names;
    for (const tern::BackendInfo& backend : tern::Runtime::available_backends())
      if (backend.usable) names += (names.empty() ? "" : ",") + backend.name;
    if (length != nullptr) *length = names.size();
    if (capacity == 0) return;
    const std::size_t copied = std::min(names.size(), capacity - 1);
    std::memcpy(buffer, names.data(), copied);
    buffer[copied] = '\0';
  });
}

TERN_C_EXPORT tern_status tern_backend_set_threads(const char* backend, int threads) {
  return guard(TERN_BACKEND_FAILED, [&] {
    tern::capi::require(backend != nullptr, "tern_backend_set_threads: backend is NULL");
    tern::capi::require(threads >= 0, [&] {
      return "tern_backend_set_threads: threads must be 0 (the default) or positive, got " + std::to_string(threads);
    });
    tern::Runtime::load_backend(backend).set_num_threads(threads);
  });
}
