#include "byte_relayout.hpp"

#include "native/transpose_matrices.hpp"

namespace tern::cpu::onednn {

void ByteRelayout::prepare(const dnnl::memory::desc& plain, const dnnl::memory::desc& chosen, ScratchSlot slot) {
  const Dims dims = plain.dims();
  const dnnl::memory::data_type type = plain.data_type();
  const bool bytes = type == dnnl::memory::data_type::u8 || type == dnnl::memory::data_type::s8;
  transpose_ = bytes && dims.size() >= 3 && dims.size() <= 5 && chosen != plain && chosen == channels_last(dims, type);
  slot_ = slot;
  target_ = nullptr;
  if (!transpose_) {
    relayout_.prepare(plain, chosen, slot);
    return;
  }
  images_ = dims[0];
  channels_ = dims[1];
  spatial_ = 1;
  for (std::size_t d = 2; d < dims.size(); ++d) spatial_ *= dims[d];
  chosen_ = unbound(chosen);
}

const dnnl::memory& ByteRelayout::read(const Tensor& tensor) {
  if (!transpose_) return relayout_.read(tensor);
  auto* buffer = static_cast<std::uint8_t*>(scratch(slot_, chosen_.get_desc().get_size()));
  // Per image [C, spatial] -> [spatial, C].
  native::transpose_bytes(static_cast<const std::uint8_t*>(tensor.raw()), buffer, images_, channels_, spatial_);
  chosen_.set_data_handle(buffer);
  return chosen_;
}

const dnnl::memory& ByteRelayout::write(Tensor& tensor) {
  if (!transpose_) return relayout_.write(tensor);
  target_ = &tensor;
  chosen_.set_data_handle(scratch(slot_, chosen_.get_desc().get_size()));
  return chosen_;
}

void ByteRelayout::written() {
  if (!transpose_) {
    relayout_.written();
    return;
  }
  // Per image [spatial, C] -> [C, spatial] (the primitive has finished: Primitive::execute).
  native::transpose_bytes(static_cast<const std::uint8_t*>(chosen_.get_data_handle()),
                          static_cast<std::uint8_t*>(target_->raw()), images_, spatial_, channels_);
}

} // namespace tern::cpu::onednn
