// Kernels whose output is the input's elements unchanged, or data known without reading
// any element (Constant, Shape, Size). They work on bytes, so every dtype shares one kernel.
#include "native/common.hpp"
#include "native/native_ops.hpp"

#include <tern/shape_range.hpp>

#include <algorithm>

namespace tern::cpu {
namespace {

using native::require;

void copy_input(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  require(node, !inputs.empty() && inputs[0].defined() && !outputs.empty(), "expected a data input and an output");
  native::require_same_bytes(node, inputs[0], outputs[0]);
  native::copy_bytes(native::bytes_of(inputs[0]), native::bytes_of(outputs[0]), inputs[0].bytes());
}

void dropout(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 1, 3, 1, 2);
  // The schema rejects a constant training_mode=true; a graph input can still say so at run time.
  if (inputs.size() > 2 && inputs[2].defined())
    require(node, inputs[2].to_int64s().at(0) == 0, "training_mode is true; Tern runs Dropout as inference only");
  copy_input(node, inputs, outputs);
  if (outputs.size() > 1) {
    native::require_dtype(node, outputs[1], DataType::Bool, "the mask output");
    native::require_shape(node, outputs[1].shape(), inputs[0].shape(), "the mask output");
    std::fill_n(outputs[1].data<bool>(), outputs[1].numel(), true); // inference keeps every element
  }
}

class ConstantKernel final : public Kernel {
public:
  explicit ConstantKernel(const Node& node) : node_(node), value_(node.attrs().get<Tensor>("value")) {
    require(node, value_.backend().host_accessible(), "attribute 'value' is not in host memory");
  }
  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 0, 0, 1, 1);
    require(node_, outputs[0].dtype() == value_.dtype() && outputs[0].shape() == value_.shape(),
            "output " + outputs[0].describe() + " does not match attribute 'value' " + value_.describe());
    native::copy_bytes(native::bytes_of(value_), native::bytes_of(outputs[0]), value_.bytes());
  }

private:
  const Node& node_;
  Tensor value_; // shares the attribute's storage: the graph keeps it alive and unchanged
};

// ONNX Shape-15: start/end slice the dimension list like Python (shape_range.hpp).
class ShapeKernel final : public Kernel {
public:
  explicit ShapeKernel(const Node& node) : node_(node) {}
  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 1, 1, 1, 1);
    const auto [begin, end] = shape_range(node_, static_cast<std::int64_t>(inputs[0].shape().rank()));
    native::require_dtype(node_, outputs[0], DataType::Int64, "output");
    native::require_shape(node_, outputs[0].shape(), Shape{end - begin}, "output");
    const auto& dims = inputs[0].shape().dims();
    std::copy(dims.begin() + begin, dims.begin() + end, outputs[0].data<std::int64_t>());
  }

private:
  const Node& node_;
};

void size(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 1, 1, 1, 1);
  native::require_dtype(node, outputs[0], DataType::Int64, "output");
  native::require_shape(node, outputs[0].shape(), Shape{}, "output");
  outputs[0].data<std::int64_t>()[0] = inputs[0].numel();
}

} // namespace

std::unique_ptr<Kernel> make_copy(const Node& node) { return native::stateless_kernel(node, copy_input); }
std::unique_ptr<Kernel> make_dropout(const Node& node) { return native::stateless_kernel(node, dropout); }
std::unique_ptr<Kernel> make_constant(const Node& node) { return std::make_unique<ConstantKernel>(node); }
std::unique_ptr<Kernel> make_shape(const Node& node) { return std::make_unique<ShapeKernel>(node); }
std::unique_ptr<Kernel> make_size(const Node& node) { return native::stateless_kernel(node, size); }

} // namespace tern::cpu
