#include "value_format.hpp"

#include "op_roles.hpp"
#include "ranges.hpp"

#include <algorithm>

namespace tern::ptq {
namespace {

const Node& tagged_node(const Value& value) {
  const Node* node = value.producer();
  if (node->op_type() == "Relu" || node->op_type() == "Clip") {
    const Node* before = node->input(0)->producer();
    if (before != nullptr && node->meta().find(precision_key) == nullptr) node = before;
  }
  return *node;
}

} // namespace

ValueFormat value_format(const Graph& graph, const Value& value, const Options& options) {
  ValueFormat format;
  if (value.producer() == nullptr) {
    unsigned bits = 0;
    for (const Node* reader : graph.consumers(value))
      if (reader->meta().has(precision_key)) bits = std::max(bits, info(tagged_precision(*reader, precision_key)).bits);
    format.bits = bits == 0 ? 8 : bits;
    format.range = int_range(format.bits, false);
    return format;
  }
  const DataType tag = tagged_precision(tagged_node(value), precision_key);
  format.bits = info(tag).bits;
  format.is_unsigned = (options.optimize_signs || !info(tag).is_signed) && stored_range(graph, value).min >= 0;
  format.range = int_range(format.bits, format.is_unsigned);
  return format;
}

} // namespace tern::ptq
