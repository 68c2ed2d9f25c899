#pragma once
// Factories of the oneDNN-backed kernels, one per op family; rows in ../kernel_table.cpp.

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

namespace tern::cpu {} // namespace tern::cpu
