#include "layout.hpp"

#include <tern/channels_last.hpp>

#include <string_view>

namespace tern::cpu::onednn {

dnnl::memory::desc any(const Dims& dims, dnnl::memory::data_type type) {
  return dnnl::memory::desc(dims, type, dnnl::memory::format_tag::any);
}

dnnl::memory::desc channel_blocked(const Dims& dims, std::int64_t block) {
  using tag = dnnl::memory::format_tag;
  check(dims.size() >= 3 && dims.size() <= 5,
        [&] { return "channel_blocked takes ranks 3 to 5, not " + std::to_string(dims.size()); });
  check(block == 8 || block == 16,
        [&] { return "channel blocks hold 8 or 16 channels, not " + std::to_string(block); });
  static constexpr tag blocked16[] = {tag::nCw16c, tag::nChw16c, tag::nCdhw16c};
  static constexpr tag blocked8[] = {tag::nCw8c, tag::nChw8c, tag::nCdhw8c};
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, (block == 16 ? blocked16 : blocked8)[dims.size() - 3]);
}

dnnl::memory::desc channels_last(const Dims& dims, dnnl::memory::data_type type) {
  using tag = dnnl::memory::format_tag;
  check(dims.size() >= 3 && dims.size() <= 5,
        [&] { return "channels_last takes ranks 3 to 5, not " + std::to_string(dims.size()); });
  static constexpr tag last[] = {tag::acb, tag::acdb, tag::acdeb};
  return dnnl::memory::desc(dims, type, last[dims.size() - 3]);
}

dnnl::memory::desc tensor_desc(const Dims& dims, bool channels_last, dnnl::memory::data_type type) {
  return channels_last ? onednn::channels_last(dims, type) : plain_desc(dims, type);
}

Shape channels_first_of(const Shape& shape, Layout layout) {
  return layout == Layout::Blocks ? channels_first_of_blocks(shape)
                                  : channels_first_view(shape, layout == Layout::ChannelsLast);
}

dnnl::memory::desc held_desc(const Shape& shape, Layout layout, std::int64_t channels) {
  Dims dims = dims_of(channels_first_of(shape, layout));
  if (layout != Layout::Blocks) return tensor_desc(dims, layout == Layout::ChannelsLast);
  if (channels > 0) dims[1] = channels; // oneDNN pads the last block itself
  return channel_blocked(dims, shape.dims().back());
}

bool is_reference(const dnnl::primitive_desc_base& pd) {
  return std::string_view(pd.impl_info_str()).starts_with("ref");
}

void Relayout::prepare(const dnnl::memory::desc& plain, const dnnl::memory::desc& chosen, ScratchSlot slot) {
  plain_ = unbound(plain);
  slot_ = slot;
  bound_ = nullptr;
  reorder_.reset();
  if (chosen == plain) return;
  chosen_ = unbound(chosen);
  const auto [from, to] = slot == ScratchSlot::Destination ? std::pair{chosen, plain} : std::pair{plain, chosen};
  reorder_ = reorder(from, to);
}

void Relayout::bind_scratch() {
  void* buffer = scratch(slot_, chosen_.get_desc().get_size());
  // Rebinding makes oneDNN zero the padding of a blocked layout: do it only when needed.
  if (buffer != bound_) chosen_.set_data_handle(buffer);
  bound_ = buffer;
}

const dnnl::memory& Relayout::read(const Tensor& tensor) {
  bind(plain_, tensor);
  if (!reorder_) return plain_;
  bind_scratch();
  reorder_->execute(plain_, chosen_);
  return chosen_;
}

const dnnl::memory& Relayout::write(Tensor& tensor) {
  bind(plain_, tensor);
  if (!reorder_) return plain_;
  bind_scratch();
  return chosen_;
}

void Relayout::written() {
  if (reorder_) reorder_->execute(chosen_, plain_);
}

void WeightsOperand::prepare(const dnnl::memory::desc& plain, const dnnl::memory::desc& chosen) {
  relayout_.prepare(plain, chosen, ScratchSlot::Weights);
  plain_ = plain;
  current_.reset();
  if (!constant_ || !relayout_.reordered()) return;
  for (std::size_t i = 0; i < packed_.size(); ++i)
    if (packed_[i].memory.get_desc() == chosen) current_ = i;
  if (!current_) {
    packed_.push_back({dnnl::memory(chosen, engine()), false});
    current_ = packed_.size() - 1;
  }
}

const dnnl::memory& WeightsOperand::read(const Tensor& weights) {
  if (!current_) return relayout_.read(weights);
  Packed& packed = packed_[*current_];
  if (!packed.filled) {
    // Once per layout, so a one-off reorder primitive (oneDNN caches it anyway) is fine.
    reorder(plain_, packed.memory.get_desc()).execute(wrap(plain_, weights), packed.memory);
    packed.filled = true;
  }
  return packed.memory;
}

} // namespace tern::cpu::onednn
