# Rebuilds on 2-core machines are only bearable with ccache: use it when present.
find_program(TERN_CCACHE ccache)
if(TERN_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${TERN_CCACHE})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${TERN_CCACHE})
endif()
