// Tensors handed across the C API: always host memory, row-major.
#include "handles.hpp"

#include <cstring>

using tern::capi::guard;
using tern::capi::require;

TERN_C_EXPORT tern_status tern_tensor_create(tern_dtype dtype, const int64_t* shape, size_t rank, const void* data,
                                             tern_tensor** tensor) {
  return guard(TERN_INVALID_ARGUMENT, [&] {
    require(tensor != nullptr, "tern_tensor_create: the tensor out-pointer is NULL");
    require(shape != nullptr || rank == 0, "tern_tensor_create: shape is NULL");
    require(dtype >= TERN_FLOAT32 && dtype <= TERN_BOOL,
            [&] { return "tern_tensor_create: unknown dtype " + std::to_string(dtype); });
    std::vector<std::int64_t> dims(shape, shape + rank);
    for (std::int64_t d : dims)
      require(d >= 0, [&] { return "tern_tensor_create: negative dimension " + std::to_string(d); });
    // tern_dtype's values are DataType's, in the same order.
    auto made =
        std::make_unique<tern_tensor>(tern_tensor{tern::Tensor(tern::Shape(dims), static_cast<tern::DataType>(dtype))});
    if (data != nullptr) std::memcpy(made->tensor.raw(), data, made->tensor.bytes());
    *tensor = made.release();
  });
}

TERN_C_EXPORT void tern_tensor_free(tern_tensor* tensor) { delete tensor; }

TERN_C_EXPORT tern_dtype tern_tensor_dtype(const tern_tensor* tensor) {
  return tensor ? static_cast<tern_dtype>(tensor->tensor.dtype()) : TERN_FLOAT32;
}

TERN_C_EXPORT size_t tern_tensor_rank(const tern_tensor* tensor) { return tensor ? tensor->tensor.shape().rank() : 0; }

TERN_C_EXPORT int64_t tern_tensor_dim(const tern_tensor* tensor, size_t axis) {
  return tensor && axis < tensor->tensor.shape().rank() ? tensor->tensor.shape()[axis] : -1;
}

TERN_C_EXPORT size_t tern_tensor_element_count(const tern_tensor* tensor) {
  return tensor ? static_cast<size_t>(tensor->tensor.numel()) : 0;
}

TERN_C_EXPORT const void* tern_tensor_data(const tern_tensor* tensor) {
  return tensor ? tensor->tensor.raw() : nullptr;
}
