#pragma once
/// \file kernel.hpp
/// Kernels: the code a backend runs for one node. A kernel is found by
/// (backend name, op type, input dtypes) and made once per node when a plan is compiled.

#include <tern/dtype.hpp>
#include <tern/tensor.hpp>

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tern {

class Node;

/// Runs one node. Made once per plan; run() is called on every forward, with the batch
/// size (and so the shapes) free to change between calls.
class Kernel {
public:
  /// Kernels are owned and destroyed through this base (by the plan).
  virtual ~Kernel() = default;
  /// Computes `outputs` (allocated by the scheduler with the inferred shapes and dtypes)
  /// from `inputs` (an undefined Tensor marks an absent optional input).
  virtual void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) = 0;
};

/// Makes the kernel for `node`; may throw tern::Error when an attribute is unsupported.
using KernelFactory = std::function<std::unique_ptr<Kernel>(const Node& node)>;

/// One row of a backend's kernel table.
struct KernelDef {
  /// The operator type it runs, e.g. "Conv".
  std::string op_type;
  /// dtypes of the present inputs, in order (absent optional inputs are skipped).
  std::vector<DataType> input_types;
  /// Makes the kernel for one node.
  KernelFactory make;
};

/// Adapts a plain function to the Kernel interface: for stateless kernels.
class FunctionKernel final : public Kernel {
public:
  /// The function: the node (for its attributes and name in errors), inputs, outputs.
  using Fn = std::function<void(const Node&, std::span<const Tensor>, std::span<Tensor>)>;
  /// Runs `fn` for `node`, which must outlive the kernel (the plan's graph does).
  FunctionKernel(const Node& node, Fn fn) : node_(node), fn_(std::move(fn)) {}
  /// Calls the function.
  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override { fn_(node_, inputs, outputs); }

private:
  const Node& node_;
  Fn fn_;
};

/// A KernelDef whose kernel is the stateless function `fn`.
KernelDef function_kernel(std::string op_type, std::vector<DataType> input_types, FunctionKernel::Fn fn);

} // namespace tern
