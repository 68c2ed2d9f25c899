#include "requantize.hpp"

#include <string>

namespace tern::ptq {

Attributes requantize_attributes(std::vector<double> scale, std::int64_t axis, std::int64_t lo, std::int64_t hi,
                                 DataType to) {
  Attributes attrs;
  attrs.set("scale", std::move(scale));
  attrs.set("axis", axis);
  attrs.set("lo", lo);
  attrs.set("hi", hi);
  attrs.set("to", std::string(name(to)));
  return attrs;
}

} // namespace tern::ptq
