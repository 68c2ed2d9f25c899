#pragma once
/// \file kernel.hpp
/// Kernels: the code a backend runs for one node. A backend's kernel table has one row
/// (KernelDef) per op family: the dtypes each input accepts (sets, "same as input i",
/// optional and repeated inputs) and, when the row runs only some nodes of its op, a check
/// that says why it declines a node. The scheduler asks the backends of the user's
/// preference list in order and records why each one it passed over declined.

#include <tern/dtype.hpp>
#include <tern/shape.hpp>
#include <tern/tensor.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
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
  /// What a profile shows of this kernel beyond its row's implementation name, as of its
  /// last run: the library implementation it chose and the layout conversions it performs
  /// (e.g. "convolution brg_conv_fwd:avx512_core; reorder jit:uni"). Empty by default.
  virtual std::string detail() const { return {}; }
};

/// What one input position of a kernel row accepts.
class KernelInput {
public:
  /// Exactly `type`: lets a row be written {"Relu", {f32}, ...}.
  constexpr KernelInput(DataType type) : types_(bit(type)) {}
  /// Any one of `types`.
  static constexpr KernelInput one_of(std::initializer_list<DataType> types) {
    KernelInput input(DataType::Float32);
    input.types_ = 0;
    for (DataType type : types) input.types_ |= bit(type);
    return input;
  }
  /// Every Tern dtype.
  static constexpr KernelInput any() {
    KernelInput input(DataType::Float32);
    input.types_ = all_types;
    return input;
  }
  /// The dtype of input `index` (an earlier position), whatever it is.
  static constexpr KernelInput same_as(std::size_t index) {
    KernelInput input = any();
    input.same_as_ = static_cast<int>(index);
    return input;
  }
  /// This input may be absent (an optional ONNX input left out, or not given at all).
  constexpr KernelInput optional() const {
    KernelInput input = *this;
    input.optional_ = true;
    return input;
  }
  /// This position and every later one (zero or more further inputs) accept this rule:
  /// variadic ops (Concat, Sum) take any number of inputs. Only the last position.
  constexpr KernelInput repeated() const {
    KernelInput input = *this;
    input.repeated_ = true;
    return input;
  }

  /// True when a present input of `type` fits, given the dtypes of every input so far.
  bool accepts(DataType type, std::span<const std::optional<DataType>> inputs) const;
  /// True when the input may be absent.
  constexpr bool is_optional() const { return optional_ || repeated_; }
  /// True when the rule covers every later position too.
  constexpr bool is_repeated() const { return repeated_; }
  /// For messages and docs: "float32", "int64|int32", "any", "same as input 0", "[...]"
  /// for optional and "..." after a repeated rule.
  std::string describe() const;

private:
  static constexpr std::uint32_t bit(DataType type) { return 1u << static_cast<unsigned>(type); }
  static constexpr std::uint32_t all_types = (1u << (static_cast<unsigned>(DataType::Bool) + 1)) - 1;
  std::uint32_t types_;
  int same_as_ = -1;
  bool optional_ = false;
  bool repeated_ = false;
};

/// What a kernel row sees of a node when asked whether it runs it (see KernelDef::supports).
struct KernelQuery {
  const Node& node; ///< the node (for fused rows: the consumer; its producer is input 0's)
  /// Per position of the row's key, the dtype, or nullopt for an absent optional input.
  std::vector<std::optional<DataType>> input_types;
  /// Per position, the shape known before running (dims may be dynamic; Shape{} when absent).
  std::vector<Shape> input_shapes;
};

/// Makes the kernel for `node` (after the row's supports() said yes). Throwing here is an
/// error, not a decline: say "no" in supports().
using KernelFactory = std::function<std::unique_ptr<Kernel>(const Node& node)>;
/// "" when the row runs the node, otherwise why not (one sentence, e.g. "only 2-D
/// convolutions"): the scheduler then asks the next backend and reports the reason.
using KernelSupport = std::function<std::string(const KernelQuery& query)>;

/// One row of a backend's kernel table.
struct KernelDef {
  /// The operator type it runs, e.g. "Conv", or a fused pair "Conv+MaxPool" (see
  /// core/src/scheduler.cpp: the key is the producer's inputs, then the consumer's others).
  std::string op_type;
  /// What each input position accepts, in the node's input order (absent optional inputs
  /// keep their position: Clip(x, , max) is {x, absent, max}).
  std::vector<KernelInput> inputs;
  /// Makes the kernel for one node.
  KernelFactory make;
  /// Optional: declines nodes the row's types admit but its kernel cannot run.
  KernelSupport supports = nullptr;
  /// Names the implementation in plans and profiles (e.g. "onednn", "native"); empty:
  /// the backend's name.
  std::string implementation = {};
};

/// True when the input dtypes `types` (nullopt: absent) fit the row's input rules.
bool matches(const std::vector<KernelInput>& rules, std::span<const std::optional<DataType>> types);
/// "(float32, int64|int32, [float32])": a row's key, for messages.
std::string describe(const std::vector<KernelInput>& rules);
/// "(float32, -, int64)": input dtypes as a node has them, for messages.
std::string describe(std::span<const std::optional<DataType>> types);

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

/// A KernelDef whose kernel is the stateless function `fn` (and that declines with
/// `supports` when given).
KernelDef function_kernel(std::string op_type, std::vector<KernelInput> inputs, FunctionKernel::Fn fn,
                          KernelSupport supports = nullptr);

} // namespace tern
