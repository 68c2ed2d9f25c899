#pragma once
// What every oneDNN kernel shares: the plugin's one engine, Primitive (how every primitive
// is built and run so that any thread may run it), the per-thread scratch buffers, plain
// row-major memory descriptors over Tern tensors (wrapped, never copied), the eltwise steps
// of an activation (also used as Conv/Gemm post-ops), and DnnlKernel, the base that checks
// inputs, caches primitives per input shapes and turns oneDNN errors into tern::Error.
// Only dnnl/*.cpp include this: dnnl.hpp is a heavy header.
//
// Threading: one plan (a Runtime) runs on one thread at a time, but any thread, and plans
// run concurrently on different threads. So nothing a primitive needs while running is
// shared between threads: each thread has its own stream and its own scratch buffers
// (thread_local in context.cpp), and every primitive is built with a user-managed
// scratchpad that Primitive::execute passes from the calling thread's buffer. oneDNN's
// default scratchpad belongs to the primitive, and the primitive cache hands the same
// primitive to every kernel built from the same descriptor (two Runtimes of one model), so
// two threads running it at once would share that buffer. The engine is shared: oneDNN
// engines may be used from any number of threads.

#include <oneapi/dnnl/dnnl.hpp>

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace tern::cpu::onednn {

using Dims = dnnl::memory::dims;

/// The plugin's CPU engine, made on first use (never at library load), shared by all threads.
dnnl::engine& engine();

/// The multiply-adds of a convolution (W [M, C/group, k...], `channels` M) or matrix product
/// (W [K, N] or [N, K], `channels` N) computing `outputs` elements: each sums W's values
/// of its channel with as many inputs.
inline std::int64_t affine_multiply_adds(const Tensor& w, std::int64_t outputs, std::int64_t channels) {
  return channels > 0 ? outputs * (w.numel() / channels) : 0;
}
/// affine_multiply_adds of a matrix product by B writing `y` (its last axis the channels).
inline std::int64_t matmul_multiply_adds(const Tensor& b, const Tensor& y) {
  const Shape& shape = y.shape();
  return affine_multiply_adds(b, y.numel(), shape.rank() > 0 ? shape[shape.rank() - 1] : 1);
}

/// Scratch buffers shared by the kernels run on one thread: a plan runs its kernels one
/// after another, so one buffer per role serves them all (per kernel, ResNet-18 at batch 64
/// would hold gigabytes). Grow-only and 64-byte aligned; one set per calling thread, so
/// plans run concurrently on different threads never share one. Intermediate holds what a
/// fused kernel passes from its first primitive to its second; Scratchpad is oneDNN's own
/// working memory of the primitive running (see Primitive).
enum class ScratchSlot { Source, Destination, Weights, Intermediate, Scratchpad, Count };
/// The calling thread's buffer for `slot`, at least `bytes` long (valid until a larger one
/// is asked for the same slot on this thread, or the thread ends).
void* scratch(ScratchSlot slot, std::size_t bytes);

/// `attr` with a user-managed scratchpad (dnnl::scratchpad_mode::user): the attributes of
/// every primitive descriptor the plugin makes, since Primitive runs only those.
dnnl::primitive_attr user_scratchpad(dnnl::primitive_attr attr = dnnl::primitive_attr());

/// A oneDNN primitive that any thread may run, the only way the plugin runs one. Its
/// descriptor must have been made with user_scratchpad() attributes (checked); execute()
/// runs it on the calling thread's stream with the calling thread's scratchpad buffer
/// (ScratchSlot::Scratchpad) and returns once it has finished, so the next primitive of
/// that thread may reuse the buffer. Like the kernel that owns it, one Primitive object is
/// used by one thread at a time (it rebinds its scratchpad memory to the running thread's
/// buffer); the oneDNN primitive underneath may be shared through oneDNN's cache.
class Primitive {
public:
  Primitive() = default;
  explicit Primitive(const dnnl::primitive_desc_base& pd);

  /// Runs it on `args`, to which it adds DNNL_ARG_SCRATCHPAD (kept maps are reused).
  void execute(std::unordered_map<int, dnnl::memory>& args) const;
  void execute(std::unordered_map<int, dnnl::memory>&& args) const { execute(args); }
  /// A reorder from `from` to `to`.
  void execute(const dnnl::memory& from, const dnnl::memory& to) const;

private:
  dnnl::primitive primitive_;
  std::size_t scratchpad_bytes_ = 0;
  mutable dnnl::memory scratchpad_; ///< over the running thread's buffer (none when 0 bytes)
  mutable void* bound_ = nullptr;   ///< the buffer scratchpad_ points to
};

/// A reorder primitive from `from` to `to` (user scratchpad, as Primitive wants).
Primitive reorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to);

/// oneDNN dims of `shape`; a scalar (rank 0) becomes {1}: oneDNN has no rank 0.
Dims dims_of(const Shape& shape);
/// `dims` with leading 1s up to `rank` (numpy broadcasting aligns from the right).
Dims left_pad(Dims dims, std::size_t rank);
/// oneDNN's data type for `type` (float32, int32, int8, uint8); throws for the others.
dnnl::memory::data_type dnnl_type(DataType type);
/// A descriptor of `dims` in row-major order, Tern's only layout.
dnnl::memory::desc plain_desc(const Dims& dims, dnnl::memory::data_type type = dnnl::memory::data_type::f32);
/// A memory object over `tensor`'s own storage, described by `desc` (no copy).
dnnl::memory wrap(const dnnl::memory::desc& desc, const Tensor& tensor);
/// A memory object of `desc` with no buffer yet, made once per shape: bind() points it at
/// each run's tensor, which costs less than making a memory object per run.
dnnl::memory unbound(const dnnl::memory::desc& desc);
/// Points `memory` at `tensor`'s storage (no copy).
void bind(dnnl::memory& memory, const Tensor& tensor);
/// Copies `from` into `to`, broadcasting numpy-style (from's shape must broadcast to to's):
/// for the operands oneDNN cannot broadcast itself (binary src0, Gemm's C).
void broadcast_into(const Tensor& from, Tensor& to);

/// One oneDNN eltwise operation; an activation is one or more of them in order.
struct EltwiseStep {
  dnnl::algorithm algorithm;
  float alpha = 0.0f;
  float beta = 0.0f;
};

/// The eltwise steps computing activation `op_type` (Relu, LeakyRelu, Clip, Sigmoid,
/// HardSigmoid, HardSwish, Tanh, Exp, Sqrt, Abs, Neg; SiLU, a fused activation only) with
/// ONNX parameters `alpha` and `beta` (LeakyRelu's alpha, Clip's min and max, HardSigmoid's
/// alpha and beta).
/// Throws tern::Error for other op types (the scheduler names the node).
std::vector<EltwiseStep> activation_steps(const std::string& op_type, float alpha, float beta);

/// The fused activation of a Conv or Gemm (Tern extension attributes `activation`,
/// `activation_alpha`, `activation_beta`; absent = none) as eltwise steps, appended to
/// `post_ops`.
void append_fused_activation(const Node& node, dnnl::post_ops& post_ops);

/// Base of the oneDNN kernels. run() checks that every present tensor is host memory of
/// a dtype the kernel takes (float32 unless it says otherwise), calls prepare() on the first run and whenever the input
/// shapes change (the primitives are built there and reused by every later run of those shapes), then execute(). A
/// dnnl::error becomes tern::Error with oneDNN's message (the scheduler adds the node and backend to every kernel
/// error, so kernels never name the node themselves).
class DnnlKernel : public Kernel {
public:
  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) final;
  /// The oneDNN primitives the last prepare() built, reorders included, each as its kind
  /// and oneDNN's implementation name ("convolution brg_conv_fwd:avx512_core; reorder jit:uni").
  std::string detail() const final { return detail_; }

protected:
  /// `dtypes`: the tensor dtypes the kernel takes (the integer kernels check the exact
  /// combination in prepare()).
  explicit DnnlKernel(const Node& node, std::vector<DataType> dtypes = {DataType::Float32})
      : node_(node), dtypes_(std::move(dtypes)) {}
  const Node& node() const { return node_; }

  /// Builds the primitives for these shapes (and checks ranks and sizes).
  virtual void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) = 0;
  /// Runs the primitives of the last prepare() on these tensors.
  virtual void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) = 0;
  /// True when something other than the shapes invalidates the primitives (Clip's bounds
  /// given as non-constant inputs).
  virtual bool stale(std::span<const Tensor> inputs) const {
    (void)inputs;
    return false;
  }
  /// The multiply-adds of a convolution or matrix product on these tensors (0 for the
  /// other kernels): with the elements read and written, what decides whether a step is
  /// too small for a second thread.
  virtual std::int64_t multiply_adds(std::span<const Tensor> inputs, std::span<Tensor> outputs) const {
    (void)inputs;
    (void)outputs;
    return 0;
  }

  /// Throws tern::Error(message): the scheduler adds the node and the backend.
  [[noreturn]] void fail(const std::string& message) const;
  void require(bool condition, const std::string& message) const {
    if (!condition) fail(message);
  }
  /// require() whose message is built only on failure.
  template <class MakeMessage>
  requires std::is_invocable_r_v<std::string, MakeMessage>
  void require(bool condition, MakeMessage&& make_message) const {
    if (!condition) fail(make_message());
  }

private:
  bool accepts(DataType type) const { return std::find(dtypes_.begin(), dtypes_.end(), type) != dtypes_.end(); }
  /// "float32" or "int8, uint8 or int32": what errors say the kernel takes.
  std::string dtype_names() const;
  /// True when `inputs` have the shapes of the last prepare() (compared without copying).
  bool same_shapes(std::span<const Tensor> inputs) const;

  /// True when these tensors make a step so small that OpenMP's fork and join would cost
  /// more than a second thread gains: it then runs on one.
  bool small(std::span<const Tensor> inputs, std::span<Tensor> outputs) const;

  const Node& node_;
  const std::vector<DataType> dtypes_;
  bool prepared_ = false;
  bool one_thread_ = false;   ///< small() of the last prepare()'s tensors
  std::vector<Shape> shapes_; ///< input shapes of the last prepare() (empty Shape: absent)
  std::string detail_;        ///< see detail()
};

} // namespace tern::cpu::onednn
