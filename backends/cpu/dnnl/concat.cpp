// Concat along one axis of any number of inputs as the oneDNN concat primitive, reading
// every input in place (float32, int32, int8 or uint8: a copy needs only the element size).
// oneDNN numbers a primitive's sources DNNL_ARG_MULTIPLE_SRC + i below
// DNNL_ARG_MULTIPLE_DST, so one primitive takes at most 1024 inputs; beyond that the
// kernel copies the bytes itself (each input's block of every outer index is contiguous).
#include "context.hpp"
#include "dnnl_ops.hpp"

#include <cstring>

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
    const Shape& y = outputs[0].shape();
    require(!inputs.empty(), "Concat needs at least one input");
    require(y.rank() >= 1, "Concat needs inputs of rank >= 1");
    const std::size_t axis = y.axis(node().attr<std::int64_t>("axis"));
    sources_.clear();
    std::int64_t total = 0;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      const Tensor& input = inputs[k];
      require(input.defined(), [&] { return "input " + std::to_string(k) + " is absent"; });
      require(input.dtype() == outputs[0].dtype(), [&] {
        return "input " + std::to_string(k) + " is " + input.describe() + ", Y is " +
               std::string(name(outputs[0].dtype()));
      });
      const Shape& x = input.shape();
      bool fits = x.rank() == y.rank();
      for (std::size_t i = 0; fits && i < y.rank(); ++i) fits = i == axis || x[i] == y[i];
      require(fits, [&] {
        return "input " + x.to_string() + " does not fit Y " + y.to_string() + " along axis " + std::to_string(axis);
      });
      total += x[axis];
      sources_.push_back(plain_desc(dims_of(x), dnnl_type(input.dtype())));
    }
    require(total == y[axis], [&] {
      return "inputs add up to " + std::to_string(total) + " along axis " + std::to_string(axis) + ", Y has " +
             std::to_string(y[axis]);
    });
    // Outer index: the axes before `axis`; a block: `axis` and the axes after it.
    outer_ = 1;
    for (std::size_t i = 0; i < axis; ++i) outer_ *= y[i];
    by_copy_ = inputs.size() > max_primitive_sources;
    if (by_copy_) return;
    dst_ = plain_desc(dims_of(y), dnnl_type(outputs[0].dtype()));
    concat_ =
        Primitive(dnnl::concat::primitive_desc(dst_, static_cast<int>(axis), sources_, engine(), user_scratchpad()));
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    if (by_copy_) return copy(inputs, outputs[0]);
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_DST, wrap(dst_, outputs[0])}};
    for (std::size_t i = 0; i < inputs.size(); ++i)
      args.emplace(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), wrap(sources_[i], inputs[i]));
    concat_.execute(args);
  }

  /// Y's block of outer index o is every input's block of o, one after the other.
  void copy(std::span<const Tensor> inputs, Tensor& y) const {
    const std::size_t row = y.bytes() / static_cast<std::size_t>(std::max<std::int64_t>(outer_, 1));
    auto* dst = static_cast<std::byte*>(y.raw());
#pragma omp parallel for if (y.bytes() > (std::size_t{1} << 20))
    for (std::int64_t o = 0; o < outer_; ++o) {
      std::byte* target = dst + static_cast<std::size_t>(o) * row;
      for (const Tensor& input : inputs) {
        const std::size_t block =
            static_cast<std::size_t>(input.numel() / std::max<std::int64_t>(outer_, 1)) * size_of(input.dtype());
        std::memcpy(target, static_cast<const std::byte*>(input.raw()) + static_cast<std::size_t>(o) * block, block);
        target += block;
      }
    }
  }

  Primitive concat_;
  std::vector<dnnl::memory::desc> sources_;
  dnnl::memory::desc dst_;
  bool by_copy_ = false;   ///< more inputs than one primitive takes
  std::int64_t outer_ = 1; ///< product of Y's dims before the axis
};

} // namespace

std::unique_ptr<Kernel> make_concat(const Node& node) { return std::make_unique<ConcatKernel>(node); }

} // namespace tern::cpu
