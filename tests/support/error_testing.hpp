#pragma once
// Shared by the suites that check refusals: the one-line error a call throws, and an
// environment variable set for one scope (TERN_MAX_TENSOR_BYTES, ...).

#include <tern/error.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>

namespace tern::test {

/// The tern::Error message of `fn`, which must be one line; fails the test when nothing throws.
inline std::string one_line_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "expected tern::Error";
  return {};
}

/// Sets an environment variable for the scope, then restores what was there.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  const char* name_;
  std::optional<std::string> old_;
};

} // namespace tern::test
