#pragma once
// What the opaque handles of <tern/tern.h> hold, and the guard every entry point runs its
// body in, so that no C++ exception crosses into C.

#include <tern/runtime.hpp>
#include <tern/tern.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

// The C API's functions are the library's only exports (it is built with hidden visibility).
#define TERN_C_EXPORT extern "C" __attribute__((visibility("default")))

struct tern_tensor {
  tern::Tensor tensor; ///< always in host memory
};

struct tern_model {
  tern::Graph graph; ///< prepared for inference; runtimes compile a clone of it
};

struct tern_runtime {
  tern::Runtime runtime;
  std::vector<tern::Placement> placements; ///< kept so tern_runtime_node can hand out C strings
};

namespace tern::capi {

/// A caller's mistake (NULL handle, index out of range): reported as TERN_INVALID_ARGUMENT.
struct InvalidArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Throws InvalidArgument(message) when `condition` is false.
inline void require(bool condition, const std::string& message) {
  if (!condition) throw InvalidArgument(message);
}

/// require() whose message is built only on failure.
template <class MakeMessage>
requires std::is_invocable_r_v<std::string, MakeMessage>
void require(bool condition, MakeMessage&& make_message) {
  if (!condition) throw InvalidArgument(make_message());
}

/// Runs `body`; maps what it throws to a status (tern::Error to `failure`) and records the
/// message for tern_last_error(). Returns TERN_OK when it returns normally.
tern_status guard(tern_status failure, const std::function<void()>& body) noexcept;

} // namespace tern::capi
