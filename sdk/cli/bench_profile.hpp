#pragma once
// `tern bench --profile`: where a forward pass spends its time, step by step and by op type.

#include "output.hpp"

#include <tern/scheduler.hpp>

namespace tern::cli {

/// Runs `runs` profiled forward passes of `scheduler` on `inputs` and prints each step (node,
/// op, backend, implementation and oneDNN's primitives, dtypes and shapes, median time and
/// share of the total) and a per-op-type summary; out.result()["profile"] gets the same.
void print_profile(SequentialScheduler& scheduler, const std::vector<Tensor>& inputs, std::size_t runs, Output& out);

} // namespace tern::cli
