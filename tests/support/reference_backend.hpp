#pragma once
// The "reference" backend, registered in-process by the tests: naive loops written for
// clarity, the independent reference that schedulers, recipes and plugins are checked
// against. Also counts kernel runs so tests can see which backend ran what.

#include <tern/tern.hpp>

namespace tern::test {

/// Registers backend "reference" (once per registry) with float32 kernels for Relu, Add,
/// Mul, Div, Sigmoid, Identity, Clip (min and max each optional), Flatten, Conv (1-D and 2-D),
/// MaxPool (1-D and 2-D, no Indices), Gemm and BatchNormalization. Conv and MaxPool read
/// pads, strides, dilations and auto_pad themselves (not through tern/window.hpp).
void register_reference_backend();

/// Registers backend "reluonly" (once per registry): host memory, Relu only. For testing
/// backend preference lists.
void register_relu_only_backend();

/// How many kernels each backend ran since the last reset.
std::map<std::string, int>& kernel_runs();

} // namespace tern::test
