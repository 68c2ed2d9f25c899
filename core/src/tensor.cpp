#include <tern/checked_math.hpp>
#include <tern/tensor.hpp>

#include <cstring>
#include <typeinfo>

namespace tern {

// The size is checked (no overflow, under TERN_MAX_TENSOR_BYTES) before the backend allocates.
Tensor::Tensor(Shape shape, DataType dtype, Backend& backend)
    : shape_(std::move(shape)), dtype_(dtype), backend_(&backend),
      storage_(backend.allocate(allocation_bytes(shape_, dtype))) {}

Tensor::Tensor(Shape shape, DataType dtype, std::shared_ptr<std::byte> storage, Backend& backend)
    : shape_(std::move(shape)), dtype_(dtype), backend_(&backend), storage_(std::move(storage)) {
  check(storage_ != nullptr, [&] { return "Tensor: null storage for " + describe(); });
  (void)tensor_byte_count(shape_, dtype_); // throws for a dynamic shape or one whose size overflows
}

void* Tensor::checked_raw(const std::type_info& requested) {
  check(defined(), "access to an undefined tensor");
  check(backend_->host_accessible(), [&] {
    return "tensor " + describe() + " lives in '" + backend_->name() + "' memory: copy it to host first (Tensor::to)";
  });
  const bool matches = dispatch(dtype_, [&](auto tag) { return typeid(typename decltype(tag)::type) == requested; });
  check(matches,
        [&] { return std::string("tensor ") + describe() + " read as the wrong C++ type " + requested.name(); });
  return storage_.get();
}

std::vector<double> Tensor::to_doubles() const {
  std::vector<double> values(static_cast<std::size_t>(numel()));
  const Tensor host = backend_->host_accessible() ? *this : to(host_backend());
  convert(host.raw(), dtype_, values.data(), DataType::Float64, values.size());
  return values;
}

std::vector<std::int64_t> Tensor::to_int64s() const {
  std::vector<std::int64_t> values(static_cast<std::size_t>(numel()));
  const Tensor host = backend_->host_accessible() ? *this : to(host_backend());
  convert(host.raw(), dtype_, values.data(), DataType::Int64, values.size());
  return values;
}

Tensor Tensor::clone() const { return to(*backend_); }

Tensor Tensor::to(Backend& target) const {
  check(defined(), "cannot copy an undefined tensor");
  Tensor copy(shape_, dtype_, target);
  const auto* src = static_cast<const std::byte*>(raw());
  auto* dst = static_cast<std::byte*>(copy.raw());
  if (backend_->host_accessible() && target.host_accessible())
    std::memcpy(dst, src, bytes());
  else if (backend_->host_accessible())
    target.copy_from_host(src, dst, bytes());
  else if (target.host_accessible())
    backend_->copy_to_host(src, dst, bytes());
  else
    copy = to(host_backend()).to(target); // device to device goes through the host
  return copy;
}

Tensor Tensor::reshaped(Shape shape) const {
  check(shape.numel() == numel(),
        [&] { return "cannot reshape " + describe() + " to " + shape.to_string() + ": element counts differ"; });
  Tensor view = *this;
  view.shape_ = std::move(shape);
  return view;
}

Tensor Tensor::cast(DataType dtype) const {
  const Tensor host = backend_->host_accessible() ? *this : to(host_backend());
  Tensor result(shape_, dtype);
  convert(host.raw(), dtype_, result.raw(), dtype, static_cast<std::size_t>(numel()));
  return result;
}

std::string Tensor::describe() const { return std::string(name(dtype_)) + shape_.to_string() + "@" + backend_->name(); }

} // namespace tern
