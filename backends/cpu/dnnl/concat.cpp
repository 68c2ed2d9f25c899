// Concat along one axis as the oneDNN concat primitive, reading every input in place
// (float32, int32, int8 or uint8: a copy needs only the element size).
#include "context.hpp"
#include "dnnl_ops.hpp"

namespace tern::cpu {
namespace {

using namespace onednn;

class ConcatKernel final : public DnnlKernel {
public:
  explicit ConcatKernel(const Node& node)
      : DnnlKernel(node, {DataType::Float32, DataType::Int32, DataType::Int8, DataType::UInt8}) {}

private:
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    const Shape& y = outputs[0].shape();
    require(y.rank() >= 1, "Concat needs inputs of rank >= 1");
    const std::size_t axis = y.axis(node().attr<std::int64_t>("axis"));
    sources_.clear();
    std::int64_t total = 0;
    for (const Tensor& input : inputs) {
      const Shape& x = input.shape();
      bool fits = x.rank() == y.rank();
      for (std::size_t i = 0; fits && i < y.rank(); ++i) fits = i == axis || x[i] == y[i];
      require(fits, "input " + x.to_string() + " does not fit Y " + y.to_string() + " along axis " + std::to_string(axis));
      total += x[axis];
      sources_.push_back(plain_desc(dims_of(x), dnnl_type(input.dtype())));
    }
    require(total == y[axis], "inputs add up to " + std::to_string(total) + " along axis " + std::to_string(axis) +
                                  ", Y has " + std::to_string(y[axis]));
    dst_ = plain_desc(dims_of(y), dnnl_type(outputs[0].dtype()));
    concat_ = dnnl::concat(dnnl::concat::primitive_desc(dst_, static_cast<int>(axis), sources_, engine()));
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_DST, wrap(dst_, outputs[0])}};
    for (std::size_t i = 0; i < inputs.size(); ++i)
      args.emplace(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), wrap(sources_[i], inputs[i]));
    concat_.execute(stream(), args);
  }

  dnnl::concat concat_;
  std::vector<dnnl::memory::desc> sources_;
  dnnl::memory::desc dst_;
};

} // namespace

std::unique_ptr<Kernel> make_concat(const Node& node) { return std::make_unique<ConcatKernel>(node); }

} // namespace tern::cpu
