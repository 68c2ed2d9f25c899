#include "clipping.hpp"

namespace tern::ptq {

double max_threshold(const ClipQuery& query) { return query.abs_max; }

} // namespace tern::ptq
