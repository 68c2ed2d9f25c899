#include <tern/tensor.hpp>

#include <gtest/gtest.h>

using tern::DataType;
using tern::Shape;
using tern::Tensor;

TEST(Shape, CountsElementsAndNormalisesAxes) {
  const Shape shape{2, 3, 4};
  EXPECT_EQ(shape.numel(), 24);
  EXPECT_EQ(shape.axis(-1), 2u);
  EXPECT_EQ(shape.axis(0), 0u);
  EXPECT_THROW((void)shape.axis(3), tern::Error);
  EXPECT_THROW((void)shape.axis(-4), tern::Error);
  EXPECT_EQ(shape.to_string(), "[2,3,4]");
}

TEST(Shape, DynamicDimensionsAreNotCountable) {
  const Shape shape{Shape::dynamic, 10};
  EXPECT_FALSE(shape.is_static());
  EXPECT_EQ(shape.to_string(), "[?,10]");
  EXPECT_THROW((void)shape.numel(), tern::Error);
  EXPECT_EQ(Shape{}.numel(), 1); // a scalar
}

TEST(Tensor, AllocatesZeroedHostMemory) {
  Tensor t(Shape{2, 2}, DataType::Int32);
  EXPECT_TRUE(t.defined());
  EXPECT_EQ(t.bytes(), 16u);
  EXPECT_EQ(t.backend().name(), "host");
  EXPECT_EQ(t.to_doubles(), (std::vector<double>{0, 0, 0, 0}));
  EXPECT_EQ(t.describe(), "int32[2,2]@host");
}

TEST(Tensor, TypedAccessChecksTheStorageType) {
  Tensor t = Tensor::from_floats(Shape{3}, {1.f, 2.f, 3.f});
  EXPECT_EQ(t.data<float>()[2], 3.f);
  EXPECT_THROW((void)t.data<double>(), tern::Error);
  Tensor nibbles = Tensor::from(Shape{2}, DataType::Int4, std::vector<std::int8_t>{-8, 7});
  EXPECT_EQ(nibbles.data<std::int8_t>()[0], -8); // int4 is stored as int8_t
  EXPECT_THROW((void)Tensor().data<float>(), tern::Error);
}

TEST(Tensor, CopiesShareStorageAndCloneDoesNot) {
  Tensor a = Tensor::from_floats(Shape{2}, {1.f, 2.f});
  Tensor shared = a;
  Tensor deep = a.clone();
  a.data<float>()[0] = 9.f;
  EXPECT_EQ(shared.data<float>()[0], 9.f);
  EXPECT_EQ(deep.data<float>()[0], 1.f);
}

TEST(Tensor, ReshapedIsAViewWithTheSameCount) {
  Tensor a = Tensor::from_floats(Shape{2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor view = a.reshaped(Shape{3, 2});
  EXPECT_EQ(view.raw(), a.raw());
  EXPECT_EQ(view.shape(), (Shape{3, 2}));
  EXPECT_THROW((void)a.reshaped(Shape{4}), tern::Error);
}

TEST(Tensor, CastSaturates) {
  Tensor a = Tensor::from_floats(Shape{4}, {-200.f, -0.5f, 3.9f, 500.f});
  Tensor b = a.cast(DataType::UInt8);
  EXPECT_EQ(b.dtype(), DataType::UInt8);
  EXPECT_EQ(b.to_doubles(), (std::vector<double>{0, 0, 3, 255}));
}

TEST(Tensor, FromRejectsAWrongValueCount) {
  EXPECT_THROW((void)Tensor::from_floats(Shape{2, 2}, {1.f}), tern::Error);
  EXPECT_THROW((void)Tensor(Shape{Shape::dynamic, 2}, DataType::Float32), tern::Error);
}
