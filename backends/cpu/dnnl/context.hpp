#pragma once
// What every oneDNN kernel shares: the plugin's one engine and stream, plain row-major
// memory descriptors over Tern tensors (wrapped, never copied), the eltwise steps of an
// activation (also used as Conv/Gemm post-ops), and DnnlKernel, the base that checks
// inputs, caches primitives per input shapes and turns oneDNN errors into tern::Error.
// Only dnnl/*.cpp include this: dnnl.hpp is a heavy header.

#include <oneapi/dnnl/dnnl.hpp>

#include <tern/graph.hpp>
#include <tern/kernel.hpp>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

namespace tern::cpu::onednn {

using Dims = dnnl::memory::dims;

/// The plugin's CPU engine, made on first use (never at library load).
dnnl::engine& engine();
/// The plugin's one stream on engine(). CPU primitives run synchronously under OpenMP.
dnnl::stream& stream();

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
/// HardSigmoid, HardSwish, Tanh, Exp, Sqrt, Abs, Neg) with ONNX parameters `alpha` and
/// `beta` (LeakyRelu's alpha, Clip's min and max, HardSigmoid's alpha and beta).
/// Throws tern::Error naming `node` for other op types.
std::vector<EltwiseStep> activation_steps(const Node& node, const std::string& op_type, float alpha, float beta);

/// The fused activation of a Conv or Gemm (Tern extension attributes `activation`,
/// `activation_alpha`, `activation_beta`; absent = none) as eltwise steps, appended to
/// `post_ops`.
void append_fused_activation(const Node& node, dnnl::post_ops& post_ops);

/// Base of the oneDNN kernels. run() checks that every present tensor is host memory of
/// a dtype the kernel takes (float32 unless it says otherwise), calls prepare() on the first run and whenever the input shapes change (the
/// primitives are built there and reused by every later run of those shapes), then
/// execute(). A dnnl::error becomes tern::Error with oneDNN's message and the node's name.
class DnnlKernel : public Kernel {
public:
  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) final;

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

  /// Throws tern::Error("<node>: <message>").
  [[noreturn]] void fail(const std::string& message) const;
  void require(bool condition, const std::string& message) const {
    if (!condition) fail(message);
  }

private:
  bool accepts(DataType type) const { return std::find(dtypes_.begin(), dtypes_.end(), type) != dtypes_.end(); }
  /// "float32" or "int8, uint8 or int32": what errors say the kernel takes.
  std::string dtype_names() const;
  /// True when `inputs` have the shapes of the last prepare() (compared without copying).
  bool same_shapes(std::span<const Tensor> inputs) const;

  const Node& node_;
  const std::vector<DataType> dtypes_;
  bool prepared_ = false;
  std::vector<Shape> shapes_; ///< input shapes of the last prepare() (empty Shape: absent)
};

} // namespace tern::cpu::onednn
