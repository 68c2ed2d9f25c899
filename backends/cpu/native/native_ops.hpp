#pragma once
// Factories of Tern's own CPU kernels (what oneDNN lacks); rows in ../kernel_table.cpp.

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

namespace tern::cpu {} // namespace tern::cpu
