#include <tern/error.hpp>
#include <tern/shape.hpp>

#include <algorithm>
#include <ostream>

namespace tern {

bool Shape::is_static() const {
  return std::none_of(dims_.begin(), dims_.end(), [](std::int64_t d) { return d == dynamic; });
}

std::int64_t Shape::numel() const {
  check(is_static(), [&] { return "shape " + to_string() + " has a dynamic dimension: its element count is unknown"; });
  std::int64_t count = 1;
  for (std::int64_t d : dims_) count *= d;
  return count;
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
