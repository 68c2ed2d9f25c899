#include <tern/attributes.hpp>

#include <sstream>

namespace tern {

const char* name(AttributeType type) {
  switch (type) {
  case AttributeType::Int: return "int";
  case AttributeType::Float: return "float";
  case AttributeType::String: return "string";
  case AttributeType::Ints: return "ints";
  case AttributeType::Floats: return "floats";
  case AttributeType::Tensor: return "tensor";
  }
  return "unknown";
}

const Attribute* Attributes::find(const std::string& key) const {
  const auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

std::string to_string(const Attribute& value) {
  std::ostringstream out;
  const auto list = [&out](const auto& items) {
    out << "[";
    for (std::size_t i = 0; i < items.size(); ++i) out << (i ? "," : "") << items[i];
    out << "]";
  };
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<std::int64_t>> || std::is_same_v<T, std::vector<double>>)
          list(v);
        else if constexpr (std::is_same_v<T, Tensor>)
          out << v.describe();
        else
          out << v;
      },
      value);
  return out.str();
}

} // namespace tern
