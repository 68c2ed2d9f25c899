// Conv followed by a MaxPool that is its only reader, run as one step: the scheduler's
// "Conv+MaxPool" fusion (core/src/scheduler.cpp), which it uses only while nobody observes
// the Conv's output. The convolution writes its own layout (16-channel blocks) into
// scratch and the pooling reads that layout, so only the pooled result, a quarter of the
// size for 2x2 windows, is reordered into Tern's plain tensor. Unfused, the Conv output is
// reordered to plain and pooled there, where oneDNN's pooling is about 3x slower; on LeNet
// at batch 64 that was a third of the time. Same primitives, so the same values.
#include "conv.hpp"
#include "dnnl_ops.hpp"
#include "layout.hpp"
#include "pool.hpp"

namespace tern::cpu {
namespace {

using namespace onednn;

class ConvMaxPoolKernel final : public DnnlKernel {
public:
  /// `pool`: the MaxPool node; its input's producer is the Conv.
  explicit ConvMaxPoolKernel(const Node& pool) : DnnlKernel(pool), conv_(*pool.input(0)->producer(), /*fused=*/true) {}

private:
  // inputs: the Conv's (X, W, B); outputs: the MaxPool's Y.
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    const Shape conv_y = conv_.output_shape(inputs[0].shape(), inputs[1].shape());
    const Shape& y = outputs[0].shape();
    require(y.rank() == conv_y.rank(),
            [&] { return "Y " + y.to_string() + " must have the rank of the convolution's " + conv_y.to_string(); });
    conv_.prepare(inputs, conv_y);
    const dnnl::memory::desc between = conv_.dst_desc();
    intermediate_ = unbound(between);
    bound_ = nullptr;
    // dst "any": oneDNN keeps the convolution's layout, the one its blocked pooling is made for.
    const auto pd = Pooling(node(), PoolKind::Max, conv_y, y).primitive_desc(between, any(dims_of(y)));
    pool_ = Primitive(pd);
    dst_.prepare(plain_desc(dims_of(y)), pd.dst_desc(), ScratchSlot::Destination);
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    void* buffer = scratch(ScratchSlot::Intermediate, intermediate_.get_desc().get_size());
    // Rebinding makes oneDNN zero a blocked layout's padding: only when the buffer moved.
    if (buffer != bound_) intermediate_.set_data_handle(buffer);
    bound_ = buffer;
    conv_.execute(inputs, intermediate_);
    pool_.execute({{DNNL_ARG_SRC, intermediate_}, {DNNL_ARG_DST, dst_.write(outputs[0])}});
    dst_.written();
  }

  Convolution conv_;
  dnnl::memory intermediate_; ///< the convolution's output, in its layout, in scratch
  void* bound_ = nullptr;     ///< the scratch buffer intermediate_ points to
  Primitive pool_;
  Relayout dst_;
};

} // namespace

std::string conv_max_pool_support(const KernelQuery& query) {
  const Node& pool = query.node;
  const Value* x = pool.input(0);
  if (x == nullptr || x->producer() == nullptr || x->producer()->op_type() != "Conv")
    return "MaxPool's input is not computed by a Conv";
  // Only the plain MaxPool: its Indices output has no oneDNN form (see pool.cpp).
  if (pool.outputs().size() != 1) return "MaxPool's Indices output has no oneDNN form";
  return conv_support(query); // the key's first inputs are the Conv's
}

std::unique_ptr<Kernel> make_conv_max_pool(const Node& pool) { return std::make_unique<ConvMaxPoolKernel>(pool); }

} // namespace tern::cpu
