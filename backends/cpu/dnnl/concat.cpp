// Concat along one axis of any number of inputs as the oneDNN concat primitive, reading
// every input in place (float32, int32, int8 or uint8: a copy needs only the element size).
// oneDNN numbers a primitive's sources DNNL_ARG_MULTIPLE_SRC + i below
// DNNL_ARG_MULTIPLE_DST, so one primitive takes at most 1024 inputs; beyond that the
// kernel copies the bytes as the native Concat does (native/concat.hpp).
#include "context.hpp"
#include "dnnl_ops.hpp"
#include "native/concat.hpp"

namespace tern::cpu {
namespace {

using namespace onednn;

constexpr std::size_t max_primitive_sources = DNNL_ARG_MULTIPLE_DST - DNNL_ARG_MULTIPLE_SRC;

class ConcatKernel final : public DnnlKernel {
public:
  explicit ConcatKernel(const Node& node)
      : DnnlKernel(node, {DataType::Float32, DataType::Int32, DataType::Int8, DataType::UInt8}) {}

private:
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    axis_ = native::check_concat(node(), inputs, outputs[0]);
    by_copy_ = inputs.size() > max_primitive_sources;
    if (by_copy_) return;
    sources_.clear();
    for (const Tensor& input : inputs) sources_.push_back(plain_desc(dims_of(input.shape()), dnnl_type(input.dtype())));
    dst_ = plain_desc(dims_of(outputs[0].shape()), dnnl_type(outputs[0].dtype()));
    concat_ =
        Primitive(dnnl::concat::primitive_desc(dst_, static_cast<int>(axis_), sources_, engine(), user_scratchpad()));
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    if (by_copy_) return native::concat_bytes(inputs, outputs[0], axis_);
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_DST, wrap(dst_, outputs[0])}};
    for (std::size_t i = 0; i < inputs.size(); ++i)
      args.emplace(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), wrap(sources_[i], inputs[i]));
    concat_.execute(args);
  }

  Primitive concat_;
  std::vector<dnnl::memory::desc> sources_;
  dnnl::memory::desc dst_;
  bool by_copy_ = false; ///< more inputs than one primitive takes
  std::size_t axis_ = 0;
};

} // namespace

std::unique_ptr<Kernel> make_concat(const Node& node) { return std::make_unique<ConcatKernel>(node); }

} // namespace tern::cpu
