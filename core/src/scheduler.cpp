#include <tern/checked_math.hpp>
#include <tern/operator.hpp>
#include <tern/registry.hpp>
#include <tern/scheduler.hpp>

#include "memory_plan.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>
#include <unordered_map>

namespace tern {

/// The last inference of one step, reused while its input types and shapes stay the same
/// (and inference read no run-time data), so a steady forward() does no shape work.
struct InferenceCache {
  std::vector<std::optional<std::pair<DataType, Shape>>> inputs; ///< nullopt: a missing input
  std::vector<std::pair<DataType, Shape>> outputs;
  bool valid = false;
};

/// A step run together with the next one by a single kernel of their backend, registered
/// under the op type "<producer>+<consumer>" (e.g. cpu's "Conv+MaxPool"), so that the
/// value between them can stay in the backend's own layout. The fused kernel is made from
/// the consumer node (its producer is reachable through input 0), takes the producer's
/// inputs followed by the consumer's other inputs, and writes the consumer's outputs.
/// Fused only where that value has one reader, the next step, on the same backend, and is
/// no graph output; forward() runs the two steps apart while the value is observed.
struct Fusion {
  std::shared_ptr<void> owner;    ///< keeps the kernel's plugin loaded; destroyed after kernel
  std::unique_ptr<Kernel> kernel; ///< null: the step is not fused with the next
};

struct SequentialScheduler::State {
  const Graph* graph = nullptr;
  std::vector<PlanStep> steps;
  std::vector<InferenceCache> inference;
  std::vector<Backend*> step_backend;
  std::vector<Backend*> backends_used; ///< each backend of the plan once
  std::vector<Fusion> fusions;         ///< per step: fused with the next step?
  detail::MemoryPlan memory;
  std::vector<std::shared_ptr<std::byte>> buffers;
  std::vector<std::size_t> capacities;
  std::unordered_map<const Value*, std::vector<Observer>> observers;
  bool profiling = false;
  std::vector<std::vector<double>> step_seconds; ///< per step, one entry per profiled pass
  std::vector<bool> deferred;                    ///< per step: fused into the next on the last pass

  // forward()'s tensors, kept from one run to the next: a steady run copies handles into
  // tensors that have room for their shapes already (a Tensor's shape is a vector, so a
  // fresh copy allocates), and re-makes an output only when its type, shape or buffer moved.
  std::vector<Tensor> live; ///< per value slot, the value's tensor in this run
  /// Who owns a slot's storage: the scheduler (its buffers), the caller (graph inputs,
  /// unplanned outputs) or the graph (constants, put in their slots once).
  enum class Owner : std::uint8_t { Scheduler, Caller, Graph };
  std::vector<Owner> owners; ///< per slot
  std::vector<int> graph_input_slots, graph_output_slots;
  std::vector<std::vector<int>> input_slots;       ///< per step, per input: its slot, -1 if missing
  std::vector<std::vector<int>> output_slots;      ///< per step, per output: its slot, -1 if unnamed
  std::vector<std::vector<Tensor>> step_inputs;    ///< per step: its kernel's inputs
  std::vector<std::vector<Tensor>> step_outputs;   ///< per step: its kernel's outputs
  std::vector<std::vector<Tensor>> fused_inputs;   ///< per step run by a fused kernel: its inputs
  std::vector<std::vector<int>> fused_input_slots; ///< ... and their slots
  bool buffers_moved = false;                      ///< a buffer was (re)allocated in this run

  /// Numbers every value forward() handles (graph inputs, constants, step outputs), puts the
  /// constants in their slots and sizes the per-step tensor lists; after the plan, the
  /// fusions and the memory plan are made.
  void assign_slots();
  /// Drops what forward() keeps that is not the scheduler's own: the caller's tensors (graph
  /// inputs, returned outputs) after every run, and its own after a run that moved a buffer
  /// (the old storage is then freed now, not at the next run).
  void release_after_run();
};

namespace {

/// Input facts for shape inference at run time: the actual tensor, whose data may vary
/// between runs unless it is a constant of the graph.
InferenceContext::Input fact(const Tensor& tensor, const Value* value) {
  if (!tensor.defined()) return {};
  const bool host = tensor.backend().host_accessible();
  return {true, tensor.dtype(), tensor.shape(), host ? &tensor : nullptr, host && value->constant() == nullptr};
}

/// Whether `tensor` has the dtype and shape of a cached inference input.
bool matches(const Tensor& tensor, const std::optional<std::pair<DataType, Shape>>& cached) {
  if (!tensor.defined()) return !cached.has_value();
  return cached.has_value() && cached->first == tensor.dtype() && cached->second == tensor.shape();
}

/// Output types of `step` for the tensors `in`, from the cache when the inputs match it.
const std::vector<std::pair<DataType, Shape>>& infer_outputs(const Node& node, const std::vector<Tensor>& in,
                                                             InferenceCache& cache) {
  if (cache.valid && std::ranges::equal(in, cache.inputs, matches)) return cache.outputs;
  cache.valid = false; // until inference succeeds
  cache.inputs.clear();
  std::vector<InferenceContext::Input> facts;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i].defined())
      cache.inputs.emplace_back(std::pair(in[i].dtype(), in[i].shape()));
    else
      cache.inputs.emplace_back();
    facts.push_back(fact(in[i], node.input(i)));
  }
  Inference result = infer(node, std::move(facts));
  cache.outputs = std::move(result.outputs);
  cache.valid = !result.read_varying_data;
  return cache.outputs;
}

/// Bytes of output `i` of `node`, checked like every tensor allocation (no overflow, under
/// TERN_MAX_TENSOR_BYTES); a refusal names the node and the output.
std::size_t output_bytes(const Node& node, std::size_t i, const Shape& shape, DataType dtype) {
  try {
    return allocation_bytes(shape, dtype);
  } catch (const Error& e) {
    throw Error(node.describe() + ": output '" + node.output(i)->name() + "': " + e.what());
  }
}

void check_graph_input(const Value& declared, const Tensor& given) {
  const auto where = [&] { return "graph input '" + declared.name() + "'"; }; // built only on failure
  if (!given.defined()) throw Error(where() + " was not given");
  if (given.dtype() != declared.dtype())
    throw Error(where() + " must be " + std::string(name(declared.dtype())) + ", got " +
                std::string(name(given.dtype())));
  const Shape& want = declared.shape();
  bool matches = want.rank() == given.shape().rank();
  for (std::size_t i = 0; matches && i < want.rank(); ++i)
    matches = want[i] == Shape::dynamic || want[i] == given.shape()[i];
  if (!matches)
    throw Error(where() + " must have shape " + want.to_string() + " ('?' is free), got " + given.shape().to_string());
  // A free dimension (the batch) given as 0: refused here, before kernels that are not asked
  // to handle an empty batch. Zero sizes the model declares itself (ONNX's tests have them) run.
  for (std::size_t i = 0; i < want.rank(); ++i)
    if (want[i] == Shape::dynamic && given.shape()[i] == 0)
      throw Error(where() + " is empty (" + given.shape().to_string() + "): give at least one sample");
}

/// `what` without a leading "<node>: ": the scheduler names the node itself, once, even
/// where a shared helper (e.g. resolve_window, also used by schemas) already did.
std::string without_node(const std::string& what, const Node& node) {
  const std::string prefix = node.describe() + ": ";
  return what.starts_with(prefix) ? what.substr(prefix.size()) : what;
}

/// What the kernel rows of a backend see of `node`, from the compile-time types.
KernelQuery compile_time_query(const Node& node,
                               const std::unordered_map<const Value*, std::pair<DataType, Shape>>& types) {
  KernelQuery query{node, {}, {}};
  for (const Value* input : node.inputs()) {
    if (input == nullptr) {
      query.input_types.emplace_back();
      query.input_shapes.emplace_back();
      continue;
    }
    const auto& [dtype, shape] = types.at(input);
    query.input_types.emplace_back(dtype);
    query.input_shapes.push_back(shape);
  }
  return query;
}

/// A fused kernel's inputs (types, shapes, slots or tensors): the producer's, then the
/// consumer's after its first (the value between them, which the kernel computes itself).
template <class T>
void fused_order(const std::vector<T>& producer, const std::vector<T>& consumer, std::vector<T>& fused) {
  fused.resize(producer.size() + consumer.size() - 1);
  std::copy(consumer.begin() + 1, consumer.end(), std::copy(producer.begin(), producer.end(), fused.begin()));
}

/// The kernel running `producer` and `consumer` (whose rows see `producer_query` and
/// `consumer_query`) as one step, when they qualify (see Fusion) and `backend_name` has a
/// row "<producer>+<consumer>" that takes them.
Fusion fuse(const Graph& graph, const KernelQuery& producer_query, const KernelQuery& consumer_query,
            const std::string& backend_name) {
  const Node& producer = producer_query.node;
  const Node& consumer = consumer_query.node;
  if (producer.outputs().size() != 1 || consumer.input(0) != producer.output(0)) return {};
  const Value& between = *producer.output(0);
  if (graph.is_output(between) || graph.consumers(between).size() != 1 ||
      std::count(consumer.inputs().begin(), consumer.inputs().end(), &between) != 1)
    return {};
  KernelQuery query{consumer, {}, {}};
  fused_order(producer_query.input_types, consumer_query.input_types, query.input_types);
  fused_order(producer_query.input_shapes, consumer_query.input_shapes, query.input_shapes);
  const KernelChoice choice =
      Registry::current().choose_kernel(backend_name, query, producer.op_type() + "+" + consumer.op_type());
  if (choice.kernel == nullptr) return {};
  try {
    return {choice.kernel->owner.library, choice.kernel->def.make(consumer)};
  } catch (const std::exception& e) {
    throw Error(consumer.describe() + ": backend '" + backend_name + "' cannot fuse it with " + producer.describe() +
                ": " + without_node(e.what(), consumer));
  }
}

/// One line naming every node no backend takes, with each backend's reason.
std::string unplaced_message(const std::vector<PlanStep>& unplaced, const std::vector<std::string>& backends) {
  std::string list;
  for (const std::string& name : backends) list += (list.empty() ? "" : ", ") + name;
  std::string message = "no backend of (" + list + ") runs " + std::to_string(unplaced.size()) + " node(s): ";
  for (std::size_t i = 0; i < unplaced.size(); ++i) {
    message += (i ? "; " : "") + unplaced[i].node->describe() + " [";
    for (std::size_t j = 0; j < unplaced[i].passed_over.size(); ++j)
      message += (j ? ", " : "") + unplaced[i].passed_over[j].backend + ": " + unplaced[i].passed_over[j].reason;
    message += "]";
  }
  const bool has_cpu =
      std::any_of(backends.begin(), backends.end(), [](const std::string& name) { return lowercase(name) == "cpu"; });
  return message + ". Add a backend that runs them to the preference list" +
         (has_cpu ? std::string() : " (e.g. " + list + ", cpu)");
}

} // namespace

void SequentialScheduler::State::assign_slots() {
  std::unordered_map<const Value*, int> slot_of;
  const auto add = [&](const Value* value, Owner owner) {
    const auto [it, added] = slot_of.emplace(value, static_cast<int>(owners.size()));
    if (added) owners.push_back(owner);
    return it->second;
  };
  for (const Value* input : graph->inputs()) graph_input_slots.push_back(add(input, Owner::Caller));
  std::vector<std::pair<int, const Value*>> constants;
  for (const Value* constant : graph->constants()) constants.emplace_back(add(constant, Owner::Graph), constant);
  for (const PlanStep& step : steps) {
    std::vector<int>& outputs = output_slots.emplace_back();
    for (std::size_t i = 0; i < step.node->outputs().size(); ++i) {
      const Value* output = step.node->output(i);
      const Owner owner = step.output_buffers[i] < 0 ? Owner::Caller : Owner::Scheduler;
      outputs.push_back(output == nullptr ? -1 : add(output, owner));
    }
  }
  for (const PlanStep& step : steps) {
    std::vector<int>& inputs = input_slots.emplace_back();
    for (const Value* input : step.node->inputs()) inputs.push_back(input == nullptr ? -1 : slot_of.at(input));
    step_inputs.emplace_back(inputs.size());
    step_outputs.emplace_back(step.node->outputs().size());
  }
  for (const Value* output : graph->outputs()) graph_output_slots.push_back(slot_of.at(output));
  fused_inputs.resize(steps.size());
  fused_input_slots.resize(steps.size());
  for (std::size_t index = 1; index < steps.size(); ++index)
    if (fusions[index - 1].kernel) fused_order(input_slots[index - 1], input_slots[index], fused_input_slots[index]);
  live.resize(owners.size());
  for (const auto& [slot, constant] : constants) live[slot] = *constant->constant();
}

void SequentialScheduler::State::release_after_run() {
  const auto release = [&](std::vector<Tensor>& tensors, auto slot_of) {
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      const int slot = slot_of(i);
      const Owner owner = slot < 0 ? Owner::Scheduler : owners[static_cast<std::size_t>(slot)];
      if (owner == Owner::Caller || (buffers_moved && owner == Owner::Scheduler)) tensors[i] = Tensor();
    }
  };
  for (std::size_t index = 0; index < steps.size(); ++index) {
    release(step_inputs[index], [&](std::size_t i) { return input_slots[index][i]; });
    release(step_outputs[index], [&](std::size_t i) { return output_slots[index][i]; });
    release(fused_inputs[index], [&](std::size_t i) { return fused_input_slots[index][i]; });
  }
  release(live, [](std::size_t i) { return static_cast<int>(i); });
  buffers_moved = false;
}

SequentialScheduler::SequentialScheduler(const Graph& graph, std::vector<std::string> backends)
    : state_(std::make_unique<State>()) {
  check(!backends.empty(), "SequentialScheduler: the backend preference list is empty");
  graph.validate();
  state_->graph = &graph;
  std::vector<Backend*> candidates;
  for (const std::string& name : backends) candidates.push_back(&backend(name));

  // Compile-time types: declared inputs, constants, then inference node by node.
  std::unordered_map<const Value*, std::pair<DataType, Shape>> types;
  for (const Value* input : graph.inputs()) types[input] = {input->dtype(), input->shape()};
  for (const Value* constant : graph.constants()) types[constant] = {constant->dtype(), constant->shape()};
  const std::vector<Node*> order = graph.topological_order();
  std::vector<KernelQuery> queries;
  std::vector<PlanStep> unplaced;
  for (const Node* node : order) {
    queries.push_back(compile_time_query(*node, types));
    std::vector<InferenceContext::Input> facts;
    for (std::size_t i = 0; i < node->inputs().size(); ++i) {
      const Value* input = node->input(i);
      if (input == nullptr)
        facts.emplace_back();
      else
        facts.push_back({true, *queries.back().input_types[i], queries.back().input_shapes[i], input->constant()});
    }
    const auto results = infer_node(*node, std::move(facts));
    for (std::size_t i = 0; i < results.size(); ++i) types[node->output(i)] = results[i];

    PlanStep step{node, {}, {}, {}, {}, {}, {}};
    for (Backend* candidate : candidates) {
      const KernelChoice choice = Registry::current().choose_kernel(candidate->name(), queries.back());
      if (choice.kernel == nullptr) {
        step.passed_over.push_back({candidate->name(), choice.reason});
        continue;
      }
      step.backend = candidate->name();
      step.implementation =
          choice.kernel->def.implementation.empty() ? step.backend : choice.kernel->def.implementation;
      step.owner = choice.kernel->owner.library;
      try {
        step.kernel = choice.kernel->def.make(*node);
      } catch (const std::exception& e) {
        throw Error(node->describe() + ": backend '" + step.backend +
                    "' cannot run it: " + without_node(e.what(), *node));
      }
      check(step.kernel != nullptr,
            [&] { return node->describe() + ": backend '" + step.backend + "' made no kernel for it"; });
      state_->step_backend.push_back(candidate);
      break;
    }
    if (step.kernel == nullptr)
      unplaced.push_back(std::move(step));
    else
      state_->steps.push_back(std::move(step));
  }
  if (!unplaced.empty()) throw Error(unplaced_message(unplaced, backends));
  for (Backend* used : state_->step_backend)
    if (std::find(state_->backends_used.begin(), state_->backends_used.end(), used) == state_->backends_used.end())
      state_->backends_used.push_back(used);
  state_->fusions.resize(order.size());
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    const bool ends_a_fusion = i > 0 && state_->fusions[i - 1].kernel != nullptr; // pairs never overlap
    if (!ends_a_fusion && state_->steps[i].backend == state_->steps[i + 1].backend)
      state_->fusions[i] = fuse(graph, queries[i], queries[i + 1], state_->steps[i].backend);
  }
  std::vector<bool> fused_with_next;
  for (const Fusion& fusion : state_->fusions) fused_with_next.push_back(fusion.kernel != nullptr);
  std::vector<std::string> backend_of_step;
  for (const PlanStep& step : state_->steps) backend_of_step.push_back(step.backend);
  state_->memory = detail::plan_memory(graph, order, backend_of_step, fused_with_next);
  state_->inference.resize(state_->steps.size());
  state_->buffers.resize(state_->memory.buffer_backend.size());
  state_->capacities.assign(state_->memory.buffer_backend.size(), 0);
  for (PlanStep& step : state_->steps)
    for (const Value* output : step.node->outputs()) {
      const auto it = state_->memory.buffer_of.find(output);
      step.output_buffers.push_back(it == state_->memory.buffer_of.end() ? -1 : it->second);
    }
  state_->assign_slots();
}

SequentialScheduler::~SequentialScheduler() = default;
SequentialScheduler::SequentialScheduler(SequentialScheduler&&) noexcept = default;
SequentialScheduler& SequentialScheduler::operator=(SequentialScheduler&&) noexcept = default;

std::vector<Tensor> SequentialScheduler::forward(const std::vector<Tensor>& inputs) {
  State& s = *state_;
  const Graph& graph = *s.graph;
  if (inputs.size() != graph.inputs().size())
    throw Error("forward: the graph takes " + std::to_string(graph.inputs().size()) + " inputs, got " +
                std::to_string(inputs.size()));
  struct Release { // on every exit, a throw included
    State& s;
    ~Release() { s.release_after_run(); }
  } release{s};
  const auto publish = [&](int slot, const Value* value, const Tensor& tensor) {
    if (slot < 0) return;
    s.live[slot] = tensor;
    if (s.observers.empty()) return;
    const auto it = s.observers.find(value);
    if (it != s.observers.end())
      for (const Observer& observer : it->second) observer(*value, tensor);
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    check_graph_input(*graph.inputs()[i], inputs[i]);
    publish(s.graph_input_slots[i], graph.inputs()[i], inputs[i]);
  }
  for (Backend* used : s.backends_used) used->enter_thread();

  bool fusing = false; // the previous step was deferred to the fused kernel of this one
  for (std::size_t index = 0; index < s.steps.size(); ++index) {
    const PlanStep& step = s.steps[index];
    Backend& target = *s.step_backend[index];
    std::vector<Tensor>& in = s.step_inputs[index];
    for (std::size_t i = 0; i < in.size(); ++i) {
      const int slot = s.input_slots[index][i];
      if (slot < 0) {
        in[i] = Tensor();
        continue;
      }
      const Tensor& tensor = s.live[slot];
      // An explicit copy only where memory is not shared (e.g. host to a GPU backend).
      if (tensor.defined() && &tensor.backend() != &target &&
          !(tensor.backend().host_accessible() && target.host_accessible()))
        in[i] = tensor.to(target);
      else
        in[i] = tensor; // into a tensor with room for the shape: no allocation
    }
    const auto& results = infer_outputs(*step.node, in, s.inference[index]);
    std::vector<Tensor>& out = s.step_outputs[index];
    out.resize(results.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& [dtype, shape] = results[i];
      const int buffer = step.output_buffers[i];
      if (buffer < 0) {                                  // the caller's: a new tensor every run
        (void)output_bytes(*step.node, i, shape, dtype); // refused naming the node, before allocating
        out[i] = Tensor(shape, dtype, target);
        continue;
      }
      if (out[i].defined() && out[i].raw() == s.buffers[buffer].get() && out[i].dtype() == dtype &&
          out[i].shape() == shape)
        continue; // as in the last run
      const std::size_t bytes = output_bytes(*step.node, i, shape, dtype);
      if (s.capacities[buffer] < bytes) {
        s.buffers[buffer].reset(); // free the old one first: peak memory stays at one copy
        s.buffers[buffer] = target.allocate(bytes);
        s.capacities[buffer] = bytes;
        s.buffers_moved = true;
      }
      out[i] = Tensor(shape, dtype, s.buffers[buffer], target);
    }
    Kernel* kernel = step.kernel.get();
    std::span<const Tensor> kernel_in = in;
    if (s.fusions[index].kernel && !s.observers.contains(step.node->output(0))) {
      // Published uncomputed: its only reader is the next step, which runs the fused kernel.
      fusing = true;
      if (s.profiling) {
        s.step_seconds[index].push_back(0.0);
        s.deferred[index] = true;
      }
      for (std::size_t i = 0; i < out.size(); ++i) publish(s.output_slots[index][i], step.node->output(i), out[i]);
      continue;
    }
    if (fusing) {
      kernel = s.fusions[index - 1].kernel.get();
      fused_order(s.step_inputs[index - 1], in, s.fused_inputs[index]);
      kernel_in = s.fused_inputs[index];
    }
    const auto started = s.profiling ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    try {
      kernel->run(kernel_in, out);
    } catch (const std::exception& e) {
      throw Error(step.node->describe() + " on backend '" + step.backend + "': " + without_node(e.what(), *step.node));
    }
    if (s.profiling) {
      s.step_seconds[index].push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      s.deferred[index] = false;
    }
    fusing = false;
    for (std::size_t i = 0; i < out.size(); ++i) publish(s.output_slots[index][i], step.node->output(i), out[i]);
  }

  std::vector<Tensor> results;
  for (std::size_t i = 0; i < graph.outputs().size(); ++i) {
    const Value* output = graph.outputs()[i];
    const Tensor& tensor = s.live[s.graph_output_slots[i]];
    // Graph inputs and constants returned as outputs are copied: the caller owns results.
    const bool owned = output->producer() != nullptr && !s.memory.buffer_of.contains(output);
    results.push_back(owned ? tensor : tensor.clone());
  }
  return results;
}

void SequentialScheduler::observe(const std::string& value_name, Observer observer) {
  state_->observers[&state_->graph->value(value_name)].push_back(std::move(observer));
}

void SequentialScheduler::clear_observers() { state_->observers.clear(); }

const std::vector<PlanStep>& SequentialScheduler::plan() const { return state_->steps; }

void SequentialScheduler::set_profiling(bool enabled) {
  State& s = *state_;
  s.profiling = enabled;
  if (!enabled) return;
  s.step_seconds.assign(s.steps.size(), {});
  s.deferred.assign(s.steps.size(), false);
}

std::vector<StepProfile> SequentialScheduler::profile() const {
  const State& s = *state_;
  std::vector<StepProfile> profile;
  for (std::size_t index = 0; index < s.steps.size(); ++index) {
    const PlanStep& step = s.steps[index];
    // A deferred step's work is in the fused kernel, which the next step runs.
    const auto deferred = [&](std::size_t i) { return i < s.deferred.size() && s.deferred[i]; };
    const Kernel& ran = index > 0 && deferred(index - 1) ? *s.fusions[index - 1].kernel : *step.kernel;
    profile.push_back({&step, deferred(index) ? std::string() : ran.detail(),
                       index < s.step_seconds.size() ? s.step_seconds[index] : std::vector<double>{}, deferred(index)});
  }
  return profile;
}

std::size_t SequentialScheduler::buffer_count() const { return state_->memory.buffer_backend.size(); }

std::size_t SequentialScheduler::buffer_bytes() const {
  std::size_t total = 0;
  for (std::size_t capacity : state_->capacities) total += capacity;
  return total;
}

} // namespace tern
