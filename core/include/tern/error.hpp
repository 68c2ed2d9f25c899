#pragma once
/// \file error.hpp
/// The one exception type Tern throws. Every message says what failed, where, and
/// (when there is one) what to do about it.

#include <stdexcept>
#include <string>

namespace tern {

/// Any failure reported by Tern: bad input, a missing plugin, a missing kernel, ...
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
  ~Error() override; // out of line: one type_info, in libtern_core.so, for every plugin
};

/// Throws tern::Error(message) when `condition` is false.
inline void check(bool condition, const std::string& message) {
  if (!condition) throw Error(message);
}

} // namespace tern
