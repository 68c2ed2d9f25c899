#pragma once
/// \file error.hpp
/// The one exception type Tern throws. Every message says what failed, where, and
/// (when there is one) what to do about it.

#include <stdexcept>
#include <string>
#include <type_traits>

namespace tern {

/// Any failure reported by Tern: bad input, a missing plugin, a missing kernel, ...
class Error : public std::runtime_error {
public:
  /// Constructed from the message, like std::runtime_error.
  using std::runtime_error::runtime_error;
  /// Out of line: one type_info, in libtern_core.so, shared by the host and every plugin.
  ~Error() override;
};

/// Throws tern::Error(message) when `condition` is false.
inline void check(bool condition, const std::string& message) {
  if (!condition) throw Error(message);
}

/// Throws tern::Error(make_message()) when `condition` is false: a message assembled at run
/// time is built only on failure (`check(ok, [&] { return "x is " + text; })`).
template <class MakeMessage>
requires std::is_invocable_r_v<std::string, MakeMessage>
void check(bool condition, MakeMessage&& make_message) {
  if (!condition) throw Error(make_message());
}

} // namespace tern
