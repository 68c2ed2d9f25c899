#include <tern/checked_math.hpp>
#include <tern/error.hpp>
#include <tern/shape.hpp>

#include <algorithm>
#include <limits>
#include <ostream>

namespace tern {

bool Shape::is_static() const {
  return std::none_of(dims_.begin(), dims_.end(), [](std::int64_t d) { return d == dynamic; });
}

std::int64_t Shape::numel() const {
  check(is_static(), [&] { return "shape " + to_string() + " has a dynamic dimension: its element count is unknown"; });
  for (const std::int64_t d : dims_)
    check(d >= 0, [&] { return "shape " + to_string() + " has the negative dimension " + std::to_string(d); });
  const std::optional<std::int64_t> count = try_element_count(dims_);
  check(count.has_value(), [&] {
    return "shape " + to_string() + " has more elements than int64 counts (its dimensions multiply past " +
           std::to_string(std::numeric_limits<std::int64_t>::max()) + ")";
  });
  return *count;
}

std::size_t Shape::axis(std::int64_t axis) const {
  const auto r = static_cast<std::int64_t>(rank());
  check(axis >= -r && axis < r,
        [&] { return "axis " + std::to_string(axis) + " is out of range for shape " + to_string(); });
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

std::string Shape::to_string() const {
  std::string text = "[";
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    if (i > 0) text += ",";
    text += dims_[i] == dynamic ? std::string("?") : std::to_string(dims_[i]);
  }
  return text + "]";
}

std::ostream& operator<<(std::ostream& out, const Shape& shape) { return out << shape.to_string(); }

} // namespace tern
