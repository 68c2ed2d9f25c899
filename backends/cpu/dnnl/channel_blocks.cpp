// The edges of a region of channel blocks (the core's channel_blocks recipe):
// ToChannelBlocks and FromChannelBlocks as oneDNN reorders between Tern's row-major
// [N, C, D...] and [N, ceil(C/b), D..., b] (nChw8c, nChw16c: any CPU reorders them), and the
// checks with which the blocked ops' rows decline blocks this CPU has no kernels for.
#include "dnnl_ops.hpp"
#include "layout.hpp"

#include <tern/channels_last.hpp>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace tern::cpu {
namespace {

using namespace onednn;

/// True on AMD's Zen 4 (family 0x19), whose AVX-512 instructions run on 256-bit units.
bool half_width_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool amd = ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163; // "AuthenticAMD"
  if (!amd || __get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  const unsigned base = (eax >> 8) & 0xf, family = base == 0xf ? base + ((eax >> 20) & 0xff) : base;
  return family == 0x19;
#else
  return false;
#endif
}

/// True when oneDNN's blocked kernels for `block` channels run on this CPU and pay: 16
/// needs AVX-512, 8 AVX2 (or a DNNL_MAX_CPU_ISA limiting oneDNN to them). Blocks of 8 run
/// its AVX2 kernels, which lose to its AVX-512 nhwc ones where AVX-512 runs at full width
/// (Xeon, torchvision mobilenet_v2 float at batch 64, one thread: 93 on blocks of 8
/// against 95-106 images/s in nhwc) and win where it runs on 256-bit units (Zen 4: 132
/// against 94), so with AVX-512 they are taken on Zen 4 only.
bool native_block(std::int64_t block) {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto has = [&](dnnl::cpu_isa wanted) {
    return (isa & static_cast<unsigned>(wanted)) == static_cast<unsigned>(wanted);
  };
  if (block == 16) return has(dnnl::cpu_isa::avx512_core);
  static const bool half_width = half_width_avx512(); // cpuid traps to the hypervisor in a VM: ask once
  return block == 8 && has(dnnl::cpu_isa::avx2) && (!has(dnnl::cpu_isa::avx512_core) || half_width);
}

std::string block_support(std::int64_t block) {
  if (native_block(block)) return {};
  return "oneDNN on this CPU has no kernels for blocks of " + std::to_string(block) +
         " channels, or (8) its AVX-512 kernels on channels last are faster";
}

class ChannelBlocksKernel final : public DnnlKernel {
public:
  ChannelBlocksKernel(const Node& node, bool to_blocks) : DnnlKernel(node), to_blocks_(to_blocks) {}

private:
  void prepare(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    const Shape& blocks = to_blocks_ ? outputs[0].shape() : inputs[0].shape();
    const Shape& channels_first = to_blocks_ ? inputs[0].shape() : outputs[0].shape();
    require(blocks.rank() >= 4 && blocks.rank() <= 6,
            [&] { return "channel blocks " + blocks.to_string() + " must be of rank 4 to 6 (1-, 2- or 3-D images)"; });
    // The reorder to blocks writes zeros into a padded last block; the one back drops it.
    const dnnl::memory::desc plain = held_desc(channels_first, Layout::Plain),
                             blocked = held_desc(blocks, Layout::Blocks, channels_first[1]);
    src_ = unbound(to_blocks_ ? plain : blocked);
    dst_ = unbound(to_blocks_ ? blocked : plain);
    reorder_ = reorder(src_.get_desc(), dst_.get_desc());
  }

  void execute(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    bind(src_, inputs[0]);
    bind(dst_, outputs[0]);
    reorder_.execute(src_, dst_);
  }

  const bool to_blocks_;
  Primitive reorder_;
  dnnl::memory src_, dst_; ///< made once per shape, pointed at each run's tensors
};

} // namespace

std::string blocked_support(const KernelQuery& query) {
  if (query.input_shapes.empty()) return {};
  const Shape& x = query.input_shapes[0];
  // A ConvBlocked's X may be a plain image, of W's rank: then only Y is in blocks.
  const bool image = query.input_shapes.size() > 1 && x.rank() == query.input_shapes[1].rank();
  if (image) return query.node.attrs().has("block") ? block_support(query.node.attr<std::int64_t>("block")) : "";
  if (x.rank() < 4 || x.rank() > 6)
    return "the cpu backend runs blocked 1-, 2- and 3-D inputs (X of rank 4 to 6); X is " + x.to_string();
  return block_support(x.dims().back());
}

std::string channel_blocks_edge_support(const KernelQuery& query) {
  const bool to_blocks = query.node.op_type() == "ToChannelBlocks";
  if (!to_blocks && query.input_shapes.empty()) return {};
  const std::int64_t block = to_blocks ? query.node.attr<std::int64_t>("block") : query.input_shapes[0].dims().back();
  if (block == 8 || block == 16) return {};
  return "the cpu backend reorders blocks of 8 or 16 channels, not " + std::to_string(block);
}

std::unique_ptr<Kernel> make_to_channel_blocks(const Node& node) {
  return std::make_unique<ChannelBlocksKernel>(node, true);
}
std::unique_ptr<Kernel> make_from_channel_blocks(const Node& node) {
  return std::make_unique<ChannelBlocksKernel>(node, false);
}

} // namespace tern::cpu
