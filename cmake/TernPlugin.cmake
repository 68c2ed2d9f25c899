# tern_add_plugin(<name> [KIND backend|pass|format] SOURCES <files...>)
#
# Builds libtern-<name>.so as a MODULE library the way the plugin host expects it:
# hidden visibility (only the descriptor entry is exported), linked to the shared core
# (never statically: a second copy of the core would hold its own registries), placed in
# the plugin folder of the build tree and installed into <prefix>/lib/tern/plugins.
# The same file is installed with the SDK, so out-of-tree plugins use it unchanged.
set(TERN_PLUGIN_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/tern_plugin.map)

function(tern_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  set(target tern-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME tern-${name}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    # lib/tern/plugins/libtern-x.so finds lib/libtern_core.so two levels up.
    BUILD_RPATH "$ORIGIN/../.."
    INSTALL_RPATH "$ORIGIN/../..")
  target_link_options(${target} PRIVATE "LINKER:--version-script=${TERN_PLUGIN_VERSION_SCRIPT}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${TERN_PLUGIN_VERSION_SCRIPT})
  if(TARGET tern_core)
    target_link_libraries(${target} PRIVATE tern_core)
  else()
    target_link_libraries(${target} PRIVATE Tern::core)
  endif()
  if(COMMAND tern_target_warnings)
    tern_target_warnings(${target})
  endif()
  if(DEFINED TERN_PLUGIN_BUILD_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${TERN_PLUGIN_BUILD_DIR})
  endif()
  if(NOT DEFINED TERN_PLUGIN_INSTALL_DIR)
    set(TERN_PLUGIN_INSTALL_DIR lib/tern/plugins)
  endif()
  install(TARGETS ${target} LIBRARY DESTINATION ${TERN_PLUGIN_INSTALL_DIR})
endfunction()
