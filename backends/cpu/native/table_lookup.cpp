// TableLookup on int8/uint8: y = T[x - lowest] (the core's ops/table_lookup.cpp), one load
// per element, whatever function T tabulates.
#include "native/common.hpp"
#include "native/native_ops.hpp"

#include <cstdint>

namespace tern::cpu {
namespace {

template <class Y> void look_up(const Tensor& x, const Tensor& table, Tensor& y) {
  const Y* t = table.data<Y>();
  Y* out = y.data<Y>();
  const std::int64_t count = x.numel();
  // The table is indexed by the byte's value read as unsigned, shifted for int8 so that
  // -128 is entry 0.
  const auto* in = static_cast<const std::uint8_t*>(x.raw());
  const std::uint8_t flip = x.dtype() == DataType::Int8 ? 0x80 : 0x00;
#pragma omp parallel for if (count > (1 << 16))
  for (std::int64_t i = 0; i < count; ++i) out[i] = t[in[i] ^ flip];
}

void table_lookup(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 2, 2, 1, 1);
  const Tensor& x = inputs[0];
  const Tensor& table = inputs[1];
  Tensor& y = outputs[0];
  native::require(node, x.dtype() == DataType::Int8 || x.dtype() == DataType::UInt8,
                  [&] { return "x is " + std::string(name(x.dtype())) + ", expected int8 or uint8"; });
  native::require_shape(node, table.shape(), Shape{256}, "table");
  native::require_dtype(node, y, table.dtype(), "output");
  native::require_shape(node, y.shape(), x.shape(), "output");
  switch (table.dtype()) {
  case DataType::Int8: look_up<std::int8_t>(x, table, y); break;
  case DataType::UInt8: look_up<std::uint8_t>(x, table, y); break;
  case DataType::Int32: look_up<std::int32_t>(x, table, y); break;
  default:
    native::require(node, false,
                    "the table is " + std::string(name(table.dtype())) + ", expected int8, uint8 or int32");
  }
}

} // namespace

std::unique_ptr<Kernel> make_table_lookup(const Node& node) { return native::stateless_kernel(node, table_lookup); }

} // namespace tern::cpu
