# tern_target_warnings(<target>): the project's warning set, fatal when TERN_WERROR is on.
add_library(tern_warnings INTERFACE)
target_compile_options(tern_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                            -Wold-style-cast -Wcast-align -Woverloaded-virtual
                            $<$<BOOL:${TERN_WERROR}>:-Werror>>
  # C: the C API's tests and examples, compiled as C as a C host would.
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic -Wshadow $<$<BOOL:${TERN_WERROR}>:-Werror>>)
if(TERN_WITH_SANITIZERS)
  # GCC 12 reports false -Wmaybe-uninitialized inside std::variant under the sanitizers.
  target_compile_options(tern_warnings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                 -Wno-maybe-uninitialized)
  target_link_options(tern_warnings INTERFACE -fsanitize=address,undefined)
endif()

function(tern_target_warnings target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:tern_warnings>)
endfunction()
