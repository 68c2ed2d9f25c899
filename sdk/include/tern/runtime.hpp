#pragma once
/// \file runtime.hpp
/// tern::Runtime: what a host application needs to run a model — list the backends it
/// can choose from, load one by name, compile a model for a backend preference list,
/// run it, and ask which backend each node got. A thin layer over Graph and
/// SequentialScheduler that owns both, so the host keeps one object.

#include <tern/backend.hpp>
#include <tern/graph.hpp>
#include <tern/scheduler.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tern {

/// A backend a host can choose by name.
struct BackendInfo {
  std::string name;    ///< what to pass to Runtime / --backend (compared case-insensitively)
  std::string source;  ///< the plugin file that provides it, or "in-process" for one registered by the host
  bool usable = false; ///< its plugin loads and its probe accepts this machine
  std::string reason;  ///< why it cannot be used (empty when usable)
  bool loaded = false; ///< already registered in this process
};

/// Where one node runs, and why the backends preferred to it were passed over.
struct Placement {
  std::string node;           ///< the node's name
  std::string op_type;        ///< its operator type
  std::string backend;        ///< the backend that runs it
  std::string implementation; ///< its kernel's implementation ("onednn", "native", ...)
  /// One entry per backend earlier in the preference list: "naive: no Add kernel for
  /// (float32, float32)" or the reason the backend's kernel declined the node. Empty when
  /// the node runs on the first backend. Read from the scheduler's plan.
  std::vector<std::string> skipped;
};

/// The rewrites every runtime applies before running a graph, in place: BatchNorm folded
/// into Conv/Gemm, activations (SiLU's two nodes too) fused into them, integer
/// Conv/Gemm/MatMul fused with the Requantize that follows (a quantized graph then runs as
/// oneDNN int8 primitives), integer residual Adds as one RequantizeAdd each, Convs
/// channels last where the backend of `backends` that runs them can (channels_last_ops),
/// and float residual Adds (with the activation after them) folded into the Conv
/// computing one operand (fuse_residual_adds), requantizations that never go below zero
/// writing uint8 (unsigned_activations), float regions on blocks of channels where that is
/// faster (channel_blocks).
void prepare_for_inference(Graph& graph, const std::vector<std::string>& backends = {"cpu"});

/// Fixes graph input `name` to `shape` (a batch or other dimension the model leaves
/// dynamic given, its static ones repeated), then folds what becomes constant: the Shape
/// arithmetic exporters write for a dynamic batch (fold_shapes, then fold_constants on the
/// first of `backends` that runs each node), so Reshapes get constant shapes and the graph
/// is static. Throws naming the input when the graph has no such input or `shape`
/// contradicts its declared rank or a static dimension.
void set_input_shape(Graph& graph, const std::string& name, const Shape& shape,
                     const std::vector<std::string>& backends = {"cpu"});

/// Loads a model file for inference: the format plugin by extension, then
/// prepare_for_inference; results are unchanged up to float rounding.
Graph load_for_inference(const std::filesystem::path& path, const std::vector<std::string>& backends = {"cpu"});

/// A model compiled for a backend preference list, ready to run many times.
class Runtime {
public:
  /// Every backend this process can use: those registered in-process, then one per
  /// backend plugin found in the plugin search folders (named after its plugin, usable
  /// or not, with the reason). The storage-only "host" backend is left out: it has no
  /// kernels. Registers no plugin (plugin files are opened only to read their descriptors).
  static std::vector<BackendInfo> available_backends();
  /// The backend `name`, loading its plugin when needed (e.g. to call set_num_threads()).
  /// Throws tern::Error saying where the plugin was looked for and why it failed.
  static Backend& load_backend(std::string_view name);

  /// Compiles `graph` for `backends` (a preference list: each node takes the first backend
  /// with a kernel for its op type and input dtypes; values move between backends that do
  /// not share memory by explicit copies). Throws tern::Error naming a node no backend
  /// can run.
  Runtime(Graph graph, std::vector<std::string> backends);
  /// load_for_inference(model, backends), then as above.
  Runtime(const std::filesystem::path& model, std::vector<std::string> backends);
  ~Runtime();
  /// Movable (the compiled plan moves with it); not copyable.
  Runtime(Runtime&&) noexcept;
  Runtime& operator=(Runtime&&) noexcept;

  /// Runs the model: one tensor per graph input, in order (any batch size); returns the
  /// graph outputs in order, owned by the caller.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);

  /// The compiled graph (after load_for_inference's rewrites, with inferred types).
  const Graph& graph() const;
  /// The preference list it was compiled for.
  const std::vector<std::string>& backends() const;
  /// One entry per node, in execution order.
  std::vector<Placement> placements() const;
  /// The backend that runs the node `node_name`; throws tern::Error when there is no such node.
  const std::string& backend_of(std::string_view node_name) const;
  /// The underlying scheduler, e.g. to observe values while running.
  SequentialScheduler& scheduler();

private:
  std::unique_ptr<Graph> graph_; // on the heap: the scheduler keeps its address
  std::vector<std::string> backends_;
  std::unique_ptr<SequentialScheduler> scheduler_;
};

} // namespace tern
