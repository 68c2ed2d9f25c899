# Installs the SDK so applications and out-of-tree plugins can use find_package(Tern):
# targets Tern::core, Tern::tern and Tern::c, and the tern_add_plugin() helper
# (tests/install builds sdk/examples against an install to keep this true).
include(CMakePackageConfigHelpers)

install(TARGETS tern_boost_dll EXPORT TernTargets)
install(EXPORT TernTargets NAMESPACE Tern:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Tern)
configure_package_config_file(cmake/TernConfig.cmake.in ${PROJECT_BINARY_DIR}/TernConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Tern)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/TernConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/TernConfig.cmake
  ${PROJECT_BINARY_DIR}/TernConfigVersion.cmake
  cmake/TernPlugin.cmake
  cmake/tern_plugin.map
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Tern)
