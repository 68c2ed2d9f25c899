#pragma once
/// \file tensor.hpp
/// Tensor: shape + element type + refcounted storage owned by a backend. Copying a Tensor
/// copies the handle (shared storage); clone() copies the data.

#include <tern/backend.hpp>
#include <tern/dtype.hpp>
#include <tern/error.hpp>
#include <tern/shape.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace tern {

/// A dense row-major tensor.
class Tensor {
public:
  /// An undefined tensor (defined() is false), e.g. an absent optional input.
  Tensor() = default;
  /// Allocates a zero-filled tensor of a static shape on `backend` (host by default).
  /// Throws tern::Error before allocating when the size overflows or exceeds
  /// TERN_MAX_TENSOR_BYTES (see <tern/checked_math.hpp>).
  Tensor(Shape shape, DataType dtype, Backend& backend = host_backend());
  /// A tensor over existing storage of at least bytes() bytes (used by the scheduler to
  /// place values in reused buffers).
  Tensor(Shape shape, DataType dtype, std::shared_ptr<std::byte> storage, Backend& backend);

  /// A host tensor holding `values`, which must be of the storage type of `dtype`
  /// (int8_t for Int4, ...) and as many as shape.numel().
  template <class T> static Tensor from(Shape shape, DataType dtype, const std::vector<T>& values);
  /// A float32 host tensor.
  static Tensor from_floats(Shape shape, const std::vector<float>& values) {
    return from(std::move(shape), DataType::Float32, values);
  }

  /// False for a default-constructed tensor (e.g. an absent optional input).
  bool defined() const { return storage_ != nullptr; }
  /// Its shape (always static).
  const Shape& shape() const { return shape_; }
  /// Its element type.
  DataType dtype() const { return dtype_; }
  /// The backend whose memory holds it.
  Backend& backend() const { return *backend_; }
  /// Number of elements.
  std::int64_t numel() const { return shape_.numel(); }
  /// Bytes of data: numel() × size_of(dtype()).
  std::size_t bytes() const { return static_cast<std::size_t>(numel()) * size_of(dtype_); }

  /// The storage, unchecked: backend memory that may not be host accessible.
  void* raw() { return storage_.get(); }
  /// The storage, read-only and unchecked.
  const void* raw() const { return storage_.get(); }
  /// Typed host access; throws when T is not dtype()'s storage type or the memory is not
  /// host accessible.
  template <class T> T* data() { return static_cast<T*>(checked_raw(typeid(T))); }
  template <class T> const T* data() const {
    return static_cast<const T*>(const_cast<Tensor*>(this)->checked_raw(typeid(T)));
  }
  /// The values converted to double (host tensors only): for tests, printing and recipes.
  std::vector<double> to_doubles() const;
  /// The values converted to int64 (host tensors only), e.g. a Reshape's shape input.
  std::vector<std::int64_t> to_int64s() const;

  /// A deep copy on the same backend.
  Tensor clone() const;
  /// A deep copy on `target` (an explicit copy between backends).
  Tensor to(Backend& target) const;
  /// A view with another shape of the same element count, sharing storage.
  Tensor reshaped(Shape shape) const;
  /// A host copy converted to `dtype` with saturation (see tern::saturate).
  Tensor cast(DataType dtype) const;
  /// "float32[1,3,4,4]@host".
  std::string describe() const;

private:
  void* checked_raw(const std::type_info& requested);

  Shape shape_;
  DataType dtype_ = DataType::Float32;
  Backend* backend_ = &host_backend();
  std::shared_ptr<std::byte> storage_;
};

template <class T> Tensor Tensor::from(Shape shape, DataType dtype, const std::vector<T>& values) {
  Tensor tensor(std::move(shape), dtype);
  check(values.size() == static_cast<std::size_t>(tensor.numel()),
        "Tensor::from: " + std::to_string(values.size()) + " values for shape " + tensor.shape().to_string());
  T* out = tensor.data<T>();
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return tensor;
}

} // namespace tern
