#include <tern/dtype.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

using tern::DataType;

TEST(DataType, SizesNamesAndRangesFollowTheTypes) {
  EXPECT_EQ(tern::size_of(DataType::Float32), 4u);
  EXPECT_EQ(tern::size_of(DataType::Float64), 8u);
  EXPECT_EQ(tern::size_of(DataType::Int4), 1u); // one int4 per byte in memory
  EXPECT_EQ(tern::size_of(DataType::Int64), 8u);
  EXPECT_EQ(tern::info(DataType::Int4).bits, 4u);
  EXPECT_EQ(tern::info(DataType::Int4).lowest, -8);
  EXPECT_EQ(tern::info(DataType::Int4).highest, 7);
  EXPECT_EQ(tern::info(DataType::UInt4).highest, 15);
  EXPECT_EQ(tern::info(DataType::Int8).lowest, -128);
  EXPECT_EQ(tern::info(DataType::UInt8).highest, 255);
  EXPECT_EQ(tern::info(DataType::Int16).highest, 32767);
  EXPECT_EQ(tern::name(DataType::UInt4), "uint4");
  EXPECT_TRUE(tern::info(DataType::Int32).is_signed);
  EXPECT_FALSE(tern::info(DataType::UInt8).is_signed);
  EXPECT_FALSE(tern::info(DataType::Float32).is_integer);
}

TEST(DataType, ParsesEveryNameItPrints) {
  for (int i = 0; i <= static_cast<int>(DataType::Bool); ++i) {
    const auto type = static_cast<DataType>(i);
    EXPECT_EQ(tern::parse_data_type(tern::name(type)), type);
  }
  EXPECT_FALSE(tern::parse_data_type("float16").has_value());
}

TEST(DataType, SaturateClampsTruncatesAndZeroesNaN) {
  EXPECT_EQ(tern::saturate(300.0, DataType::Int8), 127);
  EXPECT_EQ(tern::saturate(-300.0, DataType::Int8), -128);
  EXPECT_EQ(tern::saturate(9.0, DataType::Int4), 7);
  EXPECT_EQ(tern::saturate(-9.0, DataType::Int4), -8);
  EXPECT_EQ(tern::saturate(-1.0, DataType::UInt4), 0);
  EXPECT_EQ(tern::saturate(2.7, DataType::Int32), 2); // toward zero, as Cast does
  EXPECT_EQ(tern::saturate(-2.7, DataType::Int32), -2);
  EXPECT_EQ(tern::saturate(std::nan(""), DataType::Int16), 0);
  EXPECT_EQ(tern::saturate(0.25, DataType::Bool), 1);
  EXPECT_EQ(tern::saturate(1e40, DataType::Float64), 1e40);
}

TEST(DataType, ConvertSaturatesEveryElement) {
  const std::vector<float> in{-1000.f, -128.5f, -1.5f, 0.f, 1.9f, 127.f, 1e9f, std::numeric_limits<float>::infinity()};
  std::vector<std::int8_t> out(in.size());
  tern::convert(in.data(), DataType::Float32, out.data(), DataType::Int8, in.size());
  EXPECT_EQ(out, (std::vector<std::int8_t>{-128, -128, -1, 0, 1, 127, 127, 127}));

  std::vector<std::uint8_t> nibbles(in.size());
  tern::convert(in.data(), DataType::Float32, nibbles.data(), DataType::UInt4, in.size());
  EXPECT_EQ(nibbles, (std::vector<std::uint8_t>{0, 0, 0, 0, 1, 15, 15, 15}));
}

TEST(DataType, ConvertKeepsLargeInt64sExact) {
  const std::vector<std::int64_t> in{(std::int64_t{1} << 62) + 1, -(std::int64_t{1} << 62) - 3};
  std::vector<std::int64_t> out(2);
  tern::convert(in.data(), DataType::Int64, out.data(), DataType::Int64, 2);
  EXPECT_EQ(out, in);
  std::vector<std::int32_t> narrow(2);
  tern::convert(in.data(), DataType::Int64, narrow.data(), DataType::Int32, 2);
  EXPECT_EQ(narrow, (std::vector<std::int32_t>{2147483647, -2147483647 - 1}));
}

TEST(DataType, DispatchSelectsTheStorageType) {
  EXPECT_EQ(tern::dispatch(DataType::Int4, [](auto tag) { return sizeof(typename decltype(tag)::type); }), 1u);
  EXPECT_TRUE(tern::dispatch(DataType::UInt4,
                             [](auto tag) { return std::is_same_v<typename decltype(tag)::type, std::uint8_t>; }));
  EXPECT_TRUE(tern::dispatch(DataType::Float64, [](auto tag) { return tag.value == DataType::Float64; }));
}

// To float32: every integer type (the nearest float, as ONNX's Cast), float64 rounded to the
// nearest float, NaN kept, bool as 0/1. Hand-written expectations; 2^31 - 1 and 2^24 + 1 round to even.
TEST(DataType, ConvertToFloatIsTheNearestFloatFromEveryType) {
  const std::vector<std::int32_t> ints{-2147483647 - 1, 2147483647, 16777217, -3, 0};
  std::vector<float> out(ints.size());
  tern::convert(ints.data(), DataType::Int32, out.data(), DataType::Float32, ints.size());
  EXPECT_EQ(out, (std::vector<float>{-2147483648.f, 2147483648.f, 16777216.f, -3.f, 0.f}));

  const std::vector<std::int8_t> bytes{-128, -1, 0, 127};
  std::vector<float> from_bytes(bytes.size());
  tern::convert(bytes.data(), DataType::Int8, from_bytes.data(), DataType::Float32, bytes.size());
  EXPECT_EQ(from_bytes, (std::vector<float>{-128.f, -1.f, 0.f, 127.f}));

  const std::vector<std::uint8_t> flags{0, 1};
  std::vector<float> from_flags(2);
  tern::convert(flags.data(), DataType::Bool, from_flags.data(), DataType::Float32, 2);
  EXPECT_EQ(from_flags, (std::vector<float>{0.f, 1.f}));

  const std::vector<double> doubles{0.1, -1e30, std::numeric_limits<double>::quiet_NaN()};
  std::vector<float> narrowed(doubles.size());
  tern::convert(doubles.data(), DataType::Float64, narrowed.data(), DataType::Float32, doubles.size());
  EXPECT_EQ(narrowed[0], 0.1f);
  EXPECT_EQ(narrowed[1], -1e30f);
  EXPECT_TRUE(std::isnan(narrowed[2]));
}
