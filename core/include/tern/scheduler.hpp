#pragma once
/// \file scheduler.hpp
/// SequentialScheduler: compiles a graph into a plan once (execution order, one kernel
/// per node from a backend preference list, reused activation buffers), then runs
/// forward() as often as needed, with any batch size. Observers see chosen values during
/// forward (calibration uses them to gather statistics without storing activations).

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tern {

/// Called with a value's tensor while forward() runs; the tensor is valid only during
/// the call (its buffer is reused afterwards).
using Observer = std::function<void(const Value& value, const Tensor& tensor)>;

/// A backend of the preference list that did not take a node, and why.
struct Declined {
  std::string backend; ///< the backend's name
  std::string reason;  ///< e.g. "no Softmax kernel for (float32)" or the kernel row's own reason
};

/// One step of a plan: a node, the backend chosen for it, why earlier backends were passed
/// over, and its kernel. Tools (tern info, Runtime::placements, profiles) read this record
/// rather than asking the registry again.
struct PlanStep {
  const Node* node;                  ///< the node (in the scheduler's graph)
  std::string backend;               ///< the chosen backend's name
  std::string implementation;        ///< the kernel row's implementation name (or the backend's)
  std::vector<Declined> passed_over; ///< the backends before it in the preference list
  std::shared_ptr<void> owner;       ///< keeps the kernel's plugin loaded; destroyed after kernel
  std::unique_ptr<Kernel> kernel;    ///< made once when the plan compiles
  std::vector<int> output_buffers;   ///< buffer index per output, -1 for graph outputs
};

/// The time one plan step took over the forward() passes run while profiling.
struct StepProfile {
  const PlanStep* step;         ///< the step (its node, backend and implementation)
  std::string detail;           ///< the kernel's detail() after the last pass
  std::vector<double> seconds;  ///< wall time of the step in each pass, in order
  bool fused_into_next = false; ///< run by the next step's fused kernel (its time is there)
};

/// Runs a graph node after node in one thread of control (backends may thread inside kernels).
class SequentialScheduler {
public:
  /// Compiles the plan. `graph` must outlive the scheduler and stay unchanged. Each node
  /// takes the first backend in `backends` whose kernel table runs it (backends are loaded
  /// by name when needed), and the plan records why the backends before it declined. When
  /// some nodes have no backend, throws one tern::Error listing each such node with every
  /// backend's reason. Shapes are inferred first.
  SequentialScheduler(const Graph& graph, std::vector<std::string> backends);
  ~SequentialScheduler();
  /// Movable; not copyable (kernels hold per-plan state).
  SequentialScheduler(SequentialScheduler&&) noexcept;
  SequentialScheduler& operator=(SequentialScheduler&&) noexcept;

  /// Runs the graph on `inputs` (one per graph input, in order) and returns the graph
  /// outputs in order. Output tensors are freshly allocated and owned by the caller.
  std::vector<Tensor> forward(const std::vector<Tensor>& inputs);

  /// Calls `observer` for the value `value_name` on every forward (throws when the graph
  /// has no such value). Several observers may watch the same value.
  void observe(const std::string& value_name, Observer observer);
  /// Removes every observer.
  void clear_observers();

  /// The compiled plan: one step per node, in execution order.
  const std::vector<PlanStep>& plan() const;
  /// Number of reusable activation buffers the plan uses (graph inputs, outputs and
  /// constants are not counted: they are never reused).
  std::size_t buffer_count() const;
  /// Bytes currently held by the activation buffers (grows to the largest batch seen).
  std::size_t buffer_bytes() const;

  /// Starts (and clears) or stops timing each step of forward(). Off by default: then
  /// forward() reads no clock. Times are host wall time around the kernel's run(), which
  /// for a backend that runs asynchronously (cuda) is the launch, not the work.
  void set_profiling(bool enabled);
  /// One entry per plan step, in plan order, with the times of every pass since profiling
  /// was last enabled.
  std::vector<StepProfile> profile() const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace tern
