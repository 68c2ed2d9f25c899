#include "handles.hpp"

#include <new>

namespace tern::capi {
namespace {

thread_local std::string last_error;

tern_status fail(tern_status status, const char* message) noexcept {
  try {
    last_error = message;
  } catch (...) { // no memory even for the message: the status still says what happened
    last_error.clear();
  }
  return status;
}

} // namespace

tern_status guard(tern_status failure, const std::function<void()>& body) noexcept {
  try {
    body();
    return TERN_OK;
  } catch (const InvalidArgument& e) {
    return fail(TERN_INVALID_ARGUMENT, e.what());
  } catch (const std::bad_alloc&) {
    return fail(TERN_OUT_OF_MEMORY, "out of memory");
  } catch (const Error& e) {
    return fail(failure, e.what());
  } catch (const std::exception& e) {
    return fail(TERN_INTERNAL_ERROR, e.what());
  } catch (...) {
    return fail(TERN_INTERNAL_ERROR, "an unknown C++ exception");
  }
}

} // namespace tern::capi

TERN_C_EXPORT const char* tern_last_error(void) { return tern::capi::last_error.c_str(); }
