# Every dependency comes from Debian 12 packages (scripts/setup-deps.sh installs them).
# Heavy ones (ONNX, oneDNN) are found by the plugins that use them, not here, so the core
# builds and links against Boost alone.
find_package(Boost 1.74 REQUIRED)
find_package(Threads REQUIRED)

# Boost.DLL otherwise wants boost_filesystem; with this it uses std::filesystem.
add_library(tern_boost_dll INTERFACE)
target_link_libraries(tern_boost_dll INTERFACE Boost::boost ${CMAKE_DL_LIBS})
target_compile_definitions(tern_boost_dll INTERFACE BOOST_DLL_USE_STD_FS)
