// The one table of built-in operator families.
#include "builtin_schemas.hpp"

#include <iterator>

namespace tern::detail {

std::vector<OpSchema> builtin_schemas() {
  std::vector<OpSchema> all;
  for (auto family :
       {conv_pool_schemas, gemm_matmul_schemas, elementwise_schemas, normalization_schemas, shape_op_schemas,
        math_schemas, axes_op_schemas, data_op_schemas, resize_schemas, quantize_linear_schemas, reduce_schemas,
        logic_schemas, requantize_schemas, table_lookup_schemas}) {
    std::vector<OpSchema> schemas = family();
    all.insert(all.end(), std::make_move_iterator(schemas.begin()), std::make_move_iterator(schemas.end()));
  }
  return all;
}

} // namespace tern::detail
