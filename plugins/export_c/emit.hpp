#pragma once
// Writes a Program as NAME.h, NAME.c and NAME_weights.c (C99), plus NAME.json, a manifest
// of what was written (sizes, arena, one entry per step) for tools and `tern export --json`.

#include "program.hpp"

#include <filesystem>
#include <string>

namespace tern::export_c {

struct EmitOptions {
  std::string name = "model"; ///< a C identifier: prefixes every file, function and macro
  InputScaling input;         ///< what NAME_run applies before the input's Requantize
  std::string source;         ///< where the model came from, for the files' first comment
};

void emit(const Program& program, const EmitOptions& options, const std::filesystem::path& dir);

} // namespace tern::export_c
