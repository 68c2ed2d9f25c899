#include "context.hpp"

#include <oneapi/dnnl/dnnl_debug.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>

namespace tern::cpu::onednn {

dnnl::engine& engine() {
  // Function-local: made on the first kernel's first run, never when the plugin loads.
  static dnnl::engine cpu(dnnl::engine::kind::cpu, 0);
  return cpu;
}

namespace {

/// The calling thread's stream on engine(). Per thread, not one for the process: a oneDNN
/// stream is not thread-safe (it is meant to be used by one thread), and a stream per
/// thread is what lets plans run concurrently. Streams are cheap to make; a thread's stream
/// serves every plan it runs, whichever backend instance or Runtime they belong to.
dnnl::stream& stream() {
  thread_local dnnl::stream own(engine());
  return own;
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

struct ScratchBuffer {
  std::unique_ptr<void, FreeDeleter> data;
  std::size_t bytes = 0;
};

} // namespace

void* scratch(ScratchSlot slot, std::size_t bytes) {
  thread_local std::array<ScratchBuffer, static_cast<std::size_t>(ScratchSlot::Count)> buffers;
  ScratchBuffer& buffer = buffers[static_cast<std::size_t>(slot)];
  if (buffer.bytes < bytes) {
    // 64 bytes: a cache line and an AVX-512 vector; aligned_alloc wants a multiple of it.
    const std::size_t rounded = (bytes + 63) / 64 * 64;
    buffer.data.reset(); // free first: the old and new buffers may be large
    buffer.data.reset(std::aligned_alloc(64, rounded));
    check(buffer.data != nullptr,
          [&] { return "cannot allocate " + std::to_string(rounded) + " bytes of oneDNN scratch memory"; });
    buffer.bytes = rounded;
  }
  return buffer.data.get();
}

dnnl::primitive_attr user_scratchpad(dnnl::primitive_attr attr) {
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

namespace {

/// While a DnnlKernel prepares on this thread, the descriptions of the primitives it builds:
/// Primitive's constructor, the one way the plugin builds one, adds each.
thread_local std::vector<std::string>* primitives_built = nullptr;

/// "convolution brg_conv_fwd:avx512_core": the primitive's kind and oneDNN's implementation.
std::string describe(const dnnl::primitive_desc_base& pd) {
  return std::string(dnnl_prim_kind2str(static_cast<dnnl_primitive_kind_t>(pd.get_kind()))) + " " + pd.impl_info_str();
}

} // namespace

Primitive::Primitive(const dnnl::primitive_desc_base& pd) {
  if (primitives_built) primitives_built->push_back(describe(pd));
  // A library-managed scratchpad would be shared by every thread running this primitive.
  check(pd.get_primitive_attr().get_scratchpad_mode() == dnnl::scratchpad_mode::user,
        "oneDNN primitive made without a user scratchpad (use user_scratchpad())");
  primitive_ = dnnl::primitive(pd.get());
  const dnnl::memory::desc scratchpad = pd.scratchpad_desc();
  scratchpad_bytes_ = scratchpad.get_size();
  if (scratchpad_bytes_ > 0) scratchpad_ = unbound(scratchpad);
}

void Primitive::execute(std::unordered_map<int, dnnl::memory>& args) const {
  if (scratchpad_bytes_ > 0) {
    void* buffer = scratch(ScratchSlot::Scratchpad, scratchpad_bytes_);
    if (buffer != bound_) scratchpad_.set_data_handle(buffer);
    bound_ = buffer;
    args[DNNL_ARG_SCRATCHPAD] = scratchpad_;
  }
  dnnl::stream& own = stream();
  primitive_.execute(own, args);
  // CPU primitives under OpenMP finish inside execute(); waiting makes it explicit that the
  // scratchpad (and the scratch copies read and written around it) are free again.
  own.wait();
}

void Primitive::execute(const dnnl::memory& from, const dnnl::memory& to) const {
  execute({{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
}

Primitive reorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to) {
  return Primitive(dnnl::reorder::primitive_desc(engine(), from, engine(), to, user_scratchpad()));
}

Dims dims_of(const Shape& shape) {
  if (shape.rank() == 0) return {1};
  return Dims(shape.begin(), shape.end());
}

Dims left_pad(Dims dims, std::size_t rank) {
  if (dims.size() < rank) dims.insert(dims.begin(), rank - dims.size(), 1);
  return dims;
}

dnnl::memory::data_type dnnl_type(DataType type) {
  using dt = dnnl::memory::data_type;
  switch (type) {
  case DataType::Float32: return dt::f32;
  case DataType::Int32: return dt::s32;
  case DataType::Int8: return dt::s8;
  case DataType::UInt8: return dt::u8;
  default: throw Error("oneDNN kernels take float32, int32, int8 or uint8, not " + std::string(name(type)));
  }
}

dnnl::memory::desc plain_desc(const Dims& dims, dnnl::memory::data_type type) {
  Dims strides(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return dnnl::memory::desc(dims, type, strides);
}

namespace {

void* handle_of(const Tensor& tensor) {
  // oneDNN takes a non-const handle for every memory; inputs are only read through it.
  return const_cast<void*>(tensor.raw());
}

/// While it lives, the calling thread's OpenMP teams have one thread when `active`
/// (oneDNN's OpenMP build sizes its teams by omp_get_max_threads()).
class OneThread {
public:
  explicit OneThread(bool active) : previous_(active ? omp_get_max_threads() : 0) {
    if (active) omp_set_num_threads(1);
  }
  ~OneThread() {
    if (previous_ > 0) omp_set_num_threads(previous_);
  }
  OneThread(const OneThread&) = delete;
  OneThread& operator=(const OneThread&) = delete;

private:
  int previous_;
};

} // namespace

dnnl::memory wrap(const dnnl::memory::desc& desc, const Tensor& tensor) {
  return dnnl::memory(desc, engine(), handle_of(tensor));
}

dnnl::memory unbound(const dnnl::memory::desc& desc) { return dnnl::memory(desc, engine(), DNNL_MEMORY_NONE); }

void bind(dnnl::memory& memory, const Tensor& tensor) { memory.set_data_handle(handle_of(tensor)); }

void broadcast_into(const Tensor& from, Tensor& to) {
  const Dims out = dims_of(to.shape());
  const Dims in = left_pad(dims_of(from.shape()), out.size());
  // Stride of each output axis in `from`: 0 where `from` is broadcast along it.
  std::vector<std::int64_t> stride(out.size(), 0);
  for (std::int64_t s = 1, i = static_cast<std::int64_t>(out.size()) - 1; i >= 0; --i) {
    const auto axis = static_cast<std::size_t>(i);
    check(in[axis] == out[axis] || in[axis] == 1,
          [&] { return "cannot broadcast " + from.shape().to_string() + " to " + to.shape().to_string(); });
    stride[axis] = in[axis] == 1 ? 0 : s;
    s *= in[axis];
  }
  const float* src = from.data<float>();
  float* dst = to.data<float>();
  // Rows along the last axis are copied (or filled) at once; an odometer walks the rest.
  const std::int64_t row = out.back();
  const std::size_t outer_rank = out.size() - 1;
  std::vector<std::int64_t> index(outer_rank, 0);
  for (std::int64_t done = 0; done < to.numel(); done += row) {
    std::int64_t offset = 0;
    for (std::size_t axis = 0; axis < outer_rank; ++axis) offset += index[axis] * stride[axis];
    const float* in_row = src + offset;
    if (stride.back() == 0)
      std::fill(dst + done, dst + done + row, *in_row);
    else
      std::copy(in_row, in_row + row, dst + done);
    for (std::size_t axis = outer_rank; axis-- > 0;) {
      if (++index[axis] < out[axis]) break;
      index[axis] = 0;
    }
  }
}

std::vector<EltwiseStep> activation_steps(const std::string& op_type, float alpha, float beta) {
  using dnnl::algorithm;
  if (op_type == "Relu") return {{algorithm::eltwise_relu, 0.0f, 0.0f}};
  // oneDNN's relu with a non-zero alpha is the leaky one: alpha * x below zero.
  if (op_type == "LeakyRelu") return {{algorithm::eltwise_relu, alpha, 0.0f}};
  if (op_type == "Clip") return {{algorithm::eltwise_clip, alpha, beta}};
  if (op_type == "Sigmoid") return {{algorithm::eltwise_logistic, 0.0f, 0.0f}};
  // oneDNN 2.6 has no hardsigmoid: alpha * x + beta, then clipped to [0, 1].
  if (op_type == "HardSigmoid")
    return {{algorithm::eltwise_linear, alpha, beta}, {algorithm::eltwise_clip, 0.0f, 1.0f}};
  // oneDNN 2.6's hardswish is x * relu6(x + 3) / 6, ONNX's definition; it takes no parameters.
  if (op_type == "HardSwish") return {{algorithm::eltwise_hardswish, 0.0f, 0.0f}};
  if (op_type == "Tanh") return {{algorithm::eltwise_tanh, 0.0f, 0.0f}};
  // SiLU (fuse_silu's x * Sigmoid(x)) is oneDNN's swish, x * sigmoid(alpha * x), alpha 1.
  if (op_type == "SiLU") return {{algorithm::eltwise_swish, 1.0f, 0.0f}};
  if (op_type == "Exp") return {{algorithm::eltwise_exp, 0.0f, 0.0f}};
  if (op_type == "Sqrt") return {{algorithm::eltwise_sqrt, 0.0f, 0.0f}};
  if (op_type == "Abs") return {{algorithm::eltwise_abs, 0.0f, 0.0f}};
  if (op_type == "Neg") return {{algorithm::eltwise_linear, -1.0f, 0.0f}};
  throw Error("activation '" + op_type + "' has no oneDNN eltwise form");
}

void append_fused_activation(const Node& node, dnnl::post_ops& post_ops) {
  // get_or: the attributes are a Tern extension; a schema without them means no activation.
  const auto activation = node.attrs().get_or<std::string>("activation", "");
  if (activation.empty()) return;
  const auto alpha = static_cast<float>(node.attrs().get_or<double>("activation_alpha", 0.0));
  const auto beta = static_cast<float>(node.attrs().get_or<double>("activation_beta", 0.0));
  for (const EltwiseStep& step : activation_steps(activation, alpha, beta))
    post_ops.append_eltwise(1.0f, step.algorithm, step.alpha, step.beta);
}

void DnnlKernel::run(std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  // Messages are built only on failure: this runs for every node on every forward.
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) continue;
    if (!accepts(inputs[i].dtype()))
      fail("input " + std::to_string(i) + " is " + inputs[i].describe() + "; the oneDNN kernel takes " + dtype_names());
    if (!inputs[i].backend().host_accessible())
      fail("input " + std::to_string(i) + " is " + inputs[i].describe() + ", not in host memory");
  }
  for (std::size_t i = 0; i < outputs.size(); ++i)
    if (!outputs[i].defined() || !accepts(outputs[i].dtype()) || !outputs[i].backend().host_accessible())
      fail("output " + std::to_string(i) + " must be a host tensor of " + dtype_names() + ", not " +
           outputs[i].describe());
  try {
    const bool rebuild = !prepared_ || !same_shapes(inputs) || stale(inputs);
    if (rebuild) one_thread_ = small(inputs, outputs);
    // Built and run under one thread count: oneDNN sizes its work split at creation.
    const OneThread one_thread(one_thread_);
    if (rebuild) {
      prepared_ = false; // stays false when prepare() throws: the next run retries
      std::vector<std::string> built;
      primitives_built = &built;
      struct Stop {
        ~Stop() { primitives_built = nullptr; }
      } stop;
      prepare(inputs, outputs);
      detail_.clear();
      for (const std::string& primitive : built) detail_ += (detail_.empty() ? "" : "; ") + primitive;
      shapes_.clear();
      for (const Tensor& input : inputs) shapes_.push_back(input.defined() ? input.shape() : Shape{});
      prepared_ = true;
    }
    execute(inputs, outputs);
  } catch (const dnnl::error& e) {
    fail(std::string("oneDNN: ") + e.what() + " (status " + std::to_string(static_cast<int>(e.status)) + ")");
  }
}

bool DnnlKernel::small(std::span<const Tensor> inputs, std::span<Tensor> outputs) const {
  // Measured at batch 1, two threads (oneDNN 2.6 on OpenMP): MobileNet-sized steps of up to
  // 0.4 M multiply-adds over about 10 k elements ran no faster on two threads than on one,
  // and the network slower (12.6 k against 20.6 k images/s, float). Once the scheduler's own
  // per-step cost fell (0ff8f62), steps of 64 k multiply-adds and up gained from the second
  // thread: tern bench at batch 1, two threads, best of 4 rounds on a Zen 4 VM, bound 1 M ->
  // 64 k multiply-adds: resnet_tiny float 8.1-8.3 k -> 10.4-10.7 k images/s, int8 15.2-15.4 k
  // -> 16.4-16.5 k; mobilenet_tiny and convnet within the runs' noise (-5 % to +15 %).
  constexpr std::int64_t most_elements = std::int64_t{1} << 16, most_multiply_adds = std::int64_t{1} << 16;
  std::int64_t elements = 0;
  for (const Tensor& input : inputs) elements += input.defined() ? input.numel() : 0;
  for (const Tensor& output : outputs) elements += output.numel();
  return elements < most_elements && multiply_adds(inputs, outputs) < most_multiply_adds;
}

std::string DnnlKernel::dtype_names() const {
  std::string names;
  for (std::size_t i = 0; i < dtypes_.size(); ++i)
    names += (i == 0 ? "" : i + 1 == dtypes_.size() ? " or " : ", ") + std::string(name(dtypes_[i]));
  return names;
}

bool DnnlKernel::same_shapes(std::span<const Tensor> inputs) const {
  if (inputs.size() != shapes_.size()) return false;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (shapes_[i] != (inputs[i].defined() ? inputs[i].shape() : Shape{})) return false;
  return true;
}

void DnnlKernel::fail(const std::string& message) const { throw Error(message); }

} // namespace tern::cpu::onednn
