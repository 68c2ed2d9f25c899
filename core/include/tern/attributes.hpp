#pragma once
/// \file attributes.hpp
/// Typed attribute values and a string-keyed attribute map. Nodes carry two maps: the
/// operator's attributes (checked against its schema) and free metadata such as
/// "quantization.ptq.precision".

#include <tern/error.hpp>
#include <tern/tensor.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace tern {

/// One attribute value: int, float, string, int list, float list or tensor.
using Attribute =
    std::variant<std::int64_t, double, std::string, std::vector<std::int64_t>, std::vector<double>, Tensor>;

/// The kinds of Attribute, in the variant's order.
enum class AttributeType { Int, Float, String, Ints, Floats, Tensor };

/// The kind of `value`.
inline AttributeType type_of(const Attribute& value) { return static_cast<AttributeType>(value.index()); }
/// "int", "float", "string", "ints", "floats", "tensor".
const char* name(AttributeType type);

/// A string-keyed map of attributes with typed access and errors that name the key.
class Attributes {
public:
  /// True when `key` is set.
  bool has(const std::string& key) const { return values_.contains(key); }
  /// Sets `key` to `value`, replacing what it held.
  void set(const std::string& key, Attribute value) { values_[key] = std::move(value); }
  /// Removes `key` (nothing happens when it is not set).
  void erase(const std::string& key) { values_.erase(key); }
  /// The value of `key` as T; throws when missing or of another type.
  template <class T> const T& get(const std::string& key) const;
  /// The value of `key` as T, or `fallback` when missing; throws when of another type.
  template <class T> T get_or(const std::string& key, T fallback) const;
  /// The raw variant or nullptr.
  const Attribute* find(const std::string& key) const;
  /// Every key and its value, in key order.
  const std::map<std::string, Attribute>& all() const { return values_; }
  /// True when no key is set.
  bool empty() const { return values_.empty(); }

private:
  std::map<std::string, Attribute> values_;
};

/// Human-readable text of a value, e.g. "[1,2]" or "3.5".
std::string to_string(const Attribute& value);

template <class T> const T& Attributes::get(const std::string& key) const {
  const Attribute* value = find(key);
  check(value != nullptr, "attribute '" + key + "' is missing");
  const T* typed = std::get_if<T>(value);
  check(typed != nullptr, "attribute '" + key + "' is a " + name(type_of(*value)) + ", not the type asked for");
  return *typed;
}

template <class T> T Attributes::get_or(const std::string& key, T fallback) const {
  return has(key) ? get<T>(key) : fallback;
}

} // namespace tern
