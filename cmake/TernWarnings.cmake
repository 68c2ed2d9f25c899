# tern_target_warnings(<target>): the project's warning set, fatal when TERN_WERROR is on.
add_library(tern_warnings INTERFACE)
target_compile_options(tern_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                            -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wconversion
                            $<$<BOOL:${TERN_WERROR}>:-Werror>>
  # C: the C API's tests and examples, compiled as C as a C host would.
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic -Wshadow $<$<BOOL:${TERN_WERROR}>:-Werror>>)
if(TERN_WITH_SANITIZERS)
  # GCC 12 reports false -Wmaybe-uninitialized inside std::variant under the sanitizers.
  target_compile_options(tern_warnings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                 -Wno-maybe-uninitialized)
  target_link_options(tern_warnings INTERFACE -fsanitize=address,undefined)
endif()
if(TERN_WITH_TSAN)
  # ThreadSanitizer (tests/sanitizers/tsan_check.sh builds a tree with it); it cannot be
  # combined with AddressSanitizer.
  if(TERN_WITH_SANITIZERS)
    message(FATAL_ERROR "TERN_WITH_TSAN and TERN_WITH_SANITIZERS cannot be combined")
  endif()
  target_compile_options(tern_warnings INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(tern_warnings INTERFACE -fsanitize=thread)
endif()

function(tern_target_warnings target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:tern_warnings>)
endfunction()
