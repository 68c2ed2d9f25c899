#pragma once
/// \file dtype.hpp
/// Element types, their properties and the one place where values change type.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

namespace tern {

/// The element types a tensor can hold. int4/uint4 use one byte per value in memory.
enum class DataType : std::uint8_t { Float32, Float64, Int4, UInt4, Int8, UInt8, Int16, Int32, Int64, Bool };

/// Static facts about one DataType.
struct DataTypeInfo {
  std::string_view name; ///< "float32", "int4", ...
  std::size_t size;      ///< bytes per element in memory
  unsigned bits;         ///< bits of information (4 for int4 although it takes a byte)
  bool is_integer;       ///< integer (or bool) type
  bool is_signed;        ///< signed type (floats are signed)
  double lowest;         ///< smallest representable value
  double highest;        ///< largest representable value
};

/// Facts about `type`.
const DataTypeInfo& info(DataType type);
/// Short name, e.g. "int8".
inline std::string_view name(DataType type) { return info(type).name; }
/// Bytes per element in memory.
inline std::size_t size_of(DataType type) { return info(type).size; }
/// Parses a name as printed by name(); nullopt when unknown.
std::optional<DataType> parse_data_type(std::string_view text);

/// The C++ type each DataType is stored as.
template <DataType> struct storage;
/// float32 is stored as float; the specialisations below map every other DataType.
template <> struct storage<DataType::Float32> { using type = float; };
template <> struct storage<DataType::Float64> { using type = double; };
template <> struct storage<DataType::Int4> { using type = std::int8_t; };
template <> struct storage<DataType::UInt4> { using type = std::uint8_t; };
template <> struct storage<DataType::Int8> { using type = std::int8_t; };
template <> struct storage<DataType::UInt8> { using type = std::uint8_t; };
template <> struct storage<DataType::Int16> { using type = std::int16_t; };
template <> struct storage<DataType::Int32> { using type = std::int32_t; };
template <> struct storage<DataType::Int64> { using type = std::int64_t; };
template <> struct storage<DataType::Bool> { using type = bool; };
/// storage<T>::type: the C++ type of DataType T.
template <DataType T> using storage_t = typename storage<T>::type;

/// A DataType as a value usable in `if constexpr` inside dispatch().
template <DataType T> struct DataTypeTag {
  static constexpr DataType value = T; ///< the DataType
  using type = storage_t<T>;           ///< its C++ storage type
};

/// Calls fn(DataTypeTag<T>{}) for the runtime type `type`: the one switch over types.
template <class Fn> decltype(auto) dispatch(DataType type, Fn&& fn) {
  switch (type) {
  case DataType::Float32: return fn(DataTypeTag<DataType::Float32>{});
  case DataType::Float64: return fn(DataTypeTag<DataType::Float64>{});
  case DataType::Int4: return fn(DataTypeTag<DataType::Int4>{});
  case DataType::UInt4: return fn(DataTypeTag<DataType::UInt4>{});
  case DataType::Int8: return fn(DataTypeTag<DataType::Int8>{});
  case DataType::UInt8: return fn(DataTypeTag<DataType::UInt8>{});
  case DataType::Int16: return fn(DataTypeTag<DataType::Int16>{});
  case DataType::Int32: return fn(DataTypeTag<DataType::Int32>{});
  case DataType::Int64: return fn(DataTypeTag<DataType::Int64>{});
  case DataType::Bool: return fn(DataTypeTag<DataType::Bool>{});
  }
  return fn(DataTypeTag<DataType::Float32>{}); // unreachable: every enumerator is handled
}

/// Saturating conversion of one value into `type`'s range, as a double.
/// Integer targets: NaN becomes 0, values are truncated toward zero (like Cast), then
/// clamped to [lowest, highest]. Bool: nonzero is 1. Float targets: unchanged (float32
/// overflow to infinity is the IEEE behaviour).
double saturate(double value, DataType type);

/// Converts `count` elements from `src` (of type `from`) to `dst` (of type `to`) with the
/// rules of saturate(). `src` and `dst` must not overlap unless from == to.
void convert(const void* src, DataType from, void* dst, DataType to, std::size_t count);

} // namespace tern
