// TableLookup on "cpu" (the integer form of Sigmoid, HardSwish, ... that cast_to_integer
// makes) against the definition y = T[x - lowest], over every 8-bit value.
#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include "op_testing.hpp"

using namespace tern::test;

namespace {

using tern::DataType;
using tern::Shape;
using tern::Tensor;

/// A table whose entries differ from their index in every bit pattern that matters:
/// entry i = (i * 37 + 11) mod 256, read as the table's type.
template <class T> std::vector<T> scrambled_table() {
  std::vector<T> table(256);
  for (int i = 0; i < 256; ++i) table[static_cast<std::size_t>(i)] = static_cast<T>((i * 37 + 11) % 256 - 100);
  return table;
}

TEST(IntegerTableLookup, Int8InputIndexesFromMinus128) {
  std::vector<std::int8_t> x(256);
  for (int v = -128; v < 128; ++v) x[static_cast<std::size_t>(v + 128)] = static_cast<std::int8_t>(v);
  const auto table = scrambled_table<std::int32_t>();
  const Tensor y = run_one("TableLookup", {input("x", Tensor::from(Shape{4, 64}, DataType::Int8, x)),
                                           constant("t", Tensor::from(Shape{256}, DataType::Int32, table))});
  ASSERT_EQ(y.dtype(), DataType::Int32);
  ASSERT_EQ(y.shape(), (Shape{4, 64}));
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(y.data<std::int32_t>()[i], table[static_cast<std::size_t>(x[i] + 128)]) << "x = " << int{x[i]};
}

TEST(IntegerTableLookup, UInt8InputIndexesFromZeroIntoAnInt8Table) {
  std::vector<std::uint8_t> x;
  for (int v = 255; v >= 0; --v) x.push_back(static_cast<std::uint8_t>(v));
  const auto table = scrambled_table<std::int8_t>();
  const Tensor y = run_one("TableLookup", {input("x", Tensor::from(Shape{256}, DataType::UInt8, x)),
                                           constant("t", Tensor::from(Shape{256}, DataType::Int8, table))});
  ASSERT_EQ(y.dtype(), DataType::Int8);
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y.data<std::int8_t>()[i], table[x[i]]) << "x = " << int{x[i]};
}

TEST(IntegerTableLookup, TableOfAnotherLengthIsAOneLineError) {
  try {
    run_one("TableLookup", {input("x", Tensor::from(Shape{2}, DataType::Int8, std::vector<std::int8_t>{1, 2})),
                            constant("t", Tensor::from(Shape{16}, DataType::Int8, std::vector<std::int8_t>(16, 0)))});
    ADD_FAILURE() << "expected tern::Error";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected [256]"), std::string::npos) << e.what();
  }
}

} // namespace
