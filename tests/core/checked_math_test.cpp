// Size arithmetic from hostile input: products and sums of dimensions that overflow int64
// are refused with one line naming what overflowed (never wrapped, never undefined
// behaviour), and no tensor is allocated over TERN_MAX_TENSOR_BYTES.
#include <tern/checked_math.hpp>
#include <tern/graph.hpp>
#include <tern/registry.hpp>
#include <tern/scheduler.hpp>
#include <tern/tensor.hpp>

#include <gtest/gtest.h>

#include "error_testing.hpp"

#include "graphs.hpp"
#include "reference_backend.hpp"
#include "schema_testing.hpp"

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <string>

using tern::test::one_line_error;
using tern::test::ScopedEnv;

using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using namespace tern::test;

namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t two_to_32 = std::int64_t{1} << 32;

/// The message of inferring `graph`'s shapes.
std::string inference_error(Graph& graph) {
  return one_line_error([&] { graph.infer_shapes(); });
}

} // namespace

TEST(CheckedMath, MultiplyAndAddRefuseOverflowNamingTheValuesAndWhere) {
  EXPECT_EQ(tern::checked_mul(3, 4, [] { return std::string("unused"); }), 12);
  EXPECT_EQ(tern::checked_add(int64_max - 1, 1, [] { return std::string("unused"); }), int64_max);
  EXPECT_EQ(one_line_error([] { (void)tern::checked_mul(two_to_32, two_to_32, [] { return std::string("dims"); }); }),
            "dims: 4294967296 x 4294967296 overflows int64");
  EXPECT_EQ(one_line_error([] { (void)tern::checked_add(int64_min, -1, [] { return std::string("pads"); }); }),
            "pads: -9223372036854775808 + -1 overflows int64");
  EXPECT_EQ(tern::try_mul(int64_min, -1), std::nullopt);
  EXPECT_EQ(tern::try_add(int64_max, 1), std::nullopt);
}

TEST(CheckedMath, ShapeElementCountsNeverWrap) {
  // 2^32 x 2^32 wraps to 0 in int64 arithmetic: refused, not counted as empty.
  const Shape huge{two_to_32, two_to_32};
  EXPECT_EQ(one_line_error([&] { (void)huge.numel(); }),
            "shape [4294967296,4294967296] has more elements than int64 counts (its dimensions multiply past "
            "9223372036854775807)");
  // A zero dimension empties the shape, whatever the others multiply to.
  EXPECT_EQ((Shape{two_to_32, two_to_32, 0}).numel(), 0);
  EXPECT_EQ(one_line_error([] { (void)Shape({3, -5}).numel(); }), "shape [3,-5] has the negative dimension -5");
  // Elements fit, bytes do not.
  EXPECT_EQ(one_line_error([] { (void)tern::tensor_byte_count(Shape{std::int64_t{1} << 62}, DataType::Float32); }),
            "a float32[4611686018427387904] tensor needs more than 9223372036854775807 bytes");
  EXPECT_EQ(one_line_error([] { Tensor t(Shape{std::int64_t{1} << 62}, DataType::Float32); }),
            "a float32[4611686018427387904] tensor needs more than 9223372036854775807 bytes");
}

TEST(CheckedMath, TernMaxTensorBytesCapsEveryAllocation) {
  {
    const ScopedEnv limit("TERN_MAX_TENSOR_BYTES", "1000");
    EXPECT_EQ(tern::max_tensor_bytes(), 1000);
    EXPECT_EQ(one_line_error([] { Tensor t(Shape{500}, DataType::Float32); }),
              "a float32[500] tensor needs 2000 bytes, over the limit of 1000 bytes (TERN_MAX_TENSOR_BYTES)");
    EXPECT_EQ(Tensor(Shape{250}, DataType::Float32).bytes(), 1000u); // at the limit is allowed
    EXPECT_EQ(one_line_error([] {
                (void)Tensor::from_floats(Shape{2, 250}, std::vector<float>(500));
              }),
              "a float32[2,250] tensor needs 2000 bytes, over the limit of 1000 bytes (TERN_MAX_TENSOR_BYTES)");
  }
  {
    const ScopedEnv limit("TERN_MAX_TENSOR_BYTES", "lots");
    EXPECT_EQ(one_line_error([] { (void)tern::max_tensor_bytes(); }),
              "TERN_MAX_TENSOR_BYTES is 'lots', not a whole number of bytes that fits int64");
    EXPECT_EQ(one_line_error([] { Tensor t(Shape{1}, DataType::Float32); }),
              "TERN_MAX_TENSOR_BYTES is 'lots', not a whole number of bytes that fits int64");
  }
  // Unset: half the physical memory, and an ordinary tensor allocates.
  EXPECT_GT(tern::max_tensor_bytes(), 0);
  EXPECT_EQ(Tensor(Shape{500}, DataType::Float32).bytes(), 2000u);
}

TEST(HostileShapes, PadWithInt64MinPadsIsRefused) {
  // begin + end wrapped to 0, so the pad was accepted as a no-op.
  Graph both = with_ints("Pad", Shape{3, 2}, {int64_min, 0, int64_min, 0});
  EXPECT_EQ(inference_error(both),
            "node 'n' (Pad): pads [-9223372036854775808,0,-9223372036854775808,0] on axis 0 of input 0 ('x', "
            "float32[3,2]): -9223372036854775808 + -9223372036854775808 overflows int64");
  Graph begin_only = with_ints("Pad", Shape{3, 2}, {int64_min, 0, 0, 0});
  EXPECT_EQ(inference_error(begin_only), "node 'n' (Pad): pads [-9223372036854775808,0,0,0] crop axis 0 of input "
                                         "0 ('x', float32[3,2]) below zero elements");
  Graph grow = with_ints("Pad", Shape{3, 2}, {int64_max, 0, 0, 0});
  EXPECT_EQ(inference_error(grow), "node 'n' (Pad): pads [9223372036854775807,0,0,0] on axis 0 of input 0 ('x', "
                                   "float32[3,2]): 3 + 9223372036854775807 overflows int64");
  // A crop to exactly -1 elements is not a dynamic dimension.
  Graph minus_one = with_ints("Pad", Shape{3, 2}, {-2, 0, -2, 0});
  EXPECT_EQ(inference_error(minus_one),
            "node 'n' (Pad): pads [-2,0,-2,0] crop axis 0 of input 0 ('x', float32[3,2]) below zero elements");
}

TEST(HostileShapes, TileRepeatsThatOverflowAreRefused) {
  Graph one_axis = with_ints("Tile", Shape{3, 2}, {int64_max / 2, 1});
  EXPECT_EQ(inference_error(one_axis),
            "node 'n' (Tile): input 1 ('c', int64[2]) [4611686018427387903,1] repeating axis 0 of input 0 ('x', "
            "float32[3,2]): 3 x 4611686018427387903 overflows int64");
  // Each dimension fits; their product does not.
  Graph product = with_ints("Tile", Shape{1, 1}, {two_to_32, two_to_32});
  EXPECT_EQ(inference_error(product), "node 'n' (Tile): output 0 ('y') would be float32[4294967296,4294967296], more "
                                      "elements than int64 counts");
}

TEST(HostileShapes, ReshapeFlattenConcatAndGemmProductsAreRefused) {
  Graph explicit_shape = with_ints("Reshape", Shape{4}, {two_to_32, two_to_32, 2});
  EXPECT_EQ(inference_error(explicit_shape), "node 'n' (Reshape): the element count of shape [4294967296,4294967296,2]"
                                             ": 4294967296 x 4294967296 overflows int64");
  Graph inferred_dim = with_ints("Reshape", Shape{two_to_32, two_to_32}, {-1});
  EXPECT_EQ(inference_error(inferred_dim), "node 'n' (Reshape): the element count of input 0 ('x', "
                                           "float32[4294967296,4294967296]): 4294967296 x 4294967296 overflows int64");
  Graph flatten = one_node("Flatten", Shape{two_to_32, two_to_32, 1}, {}, attrs({{"axis", i64(2)}}));
  EXPECT_EQ(inference_error(flatten), "node 'n' (Flatten): flattening input 0 ('x', float32[4294967296,4294967296,1]) "
                                      "at axis 2: 4294967296 x 4294967296 overflows int64");
  Graph concat;
  concat.add_input("a", DataType::Float32, Shape{int64_max, 1});
  concat.add_input("b", DataType::Float32, Shape{1, 1});
  concat.add_node("Concat", {"a", "b"}, {"y"}, attrs({{"axis", i64(0)}}), "n");
  EXPECT_EQ(inference_error(concat), "node 'n' (Concat): concatenating input 1 ('b', float32[1,1]) on axis 0: "
                                     "9223372036854775807 + 1 overflows int64");
  Graph gemm;
  gemm.add_input("a", DataType::Float32, Shape{2, two_to_32, two_to_32});
  add_weights(gemm, "b", Shape{1, 1});
  gemm.add_node("Gemm", {"a", "b"}, {"y"}, {}, "n");
  EXPECT_EQ(inference_error(gemm), "node 'n' (Gemm): the columns of input 0 ('a', float32[2,4294967296,4294967296]): "
                                   "4294967296 x 4294967296 overflows int64");
}

TEST(HostileShapes, WindowArithmeticIsChecked) {
  const auto conv = [](tern::Attributes a) {
    Graph graph;
    graph.add_input("x", DataType::Float32, Shape{1, 1, 8, 8});
    add_weights(graph, "w", Shape{1, 1, 3, 3});
    graph.add_node("Conv", {"x", "w"}, {"y"}, std::move(a), "conv");
    return graph;
  };
  Graph dilated = conv(attrs({{"dilations", Ints{std::int64_t{1} << 62, 1}}}));
  EXPECT_EQ(inference_error(dilated),
            "node 'conv' (Conv): the window over spatial axis 0: 4611686018427387904 x 2 overflows int64");
  Graph padded = conv(attrs({{"pads", Ints{int64_max, 0, 0, 0}}}));
  EXPECT_EQ(inference_error(padded),
            "node 'conv' (Conv): the window over spatial axis 0: 8 + 9223372036854775807 overflows int64");
  Graph same = conv(attrs({{"auto_pad", text("SAME_UPPER")}, {"dilations", Ints{int64_max / 2 + 1, 1}}}));
  EXPECT_EQ(inference_error(same),
            "node 'conv' (Conv): the window over spatial axis 0: 4611686018427387904 x 2 overflows int64");
  Graph grouped;
  grouped.add_input("x", DataType::Float32, Shape{1, 4, 8, 8});
  add_weights(grouped, "w", Shape{4, 2, 1, 1});
  grouped.add_node("Conv", {"x", "w"}, {"y"}, attrs({{"group", i64(int64_max)}}), "conv");
  EXPECT_EQ(inference_error(grouped), "node 'conv' (Conv): the input channels of input 1 ('w', float32[4,2,1,1]) "
                                      "times attribute 'group': 2 x 9223372036854775807 overflows int64");
  // ceil_mode still drops a last window that would start in the end padding.
  Graph pool = one_node("MaxPool", Shape{1, 1, 5, 5}, {},
                        attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"ceil_mode", i64(1)}}));
  EXPECT_EQ(inferred(pool), (Ints{1, 1, 3, 3}));
  Graph padded_pool = one_node(
      "MaxPool", Shape{1, 1, 4, 4}, {},
      attrs(
          {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"pads", Ints{0, 0, 1, 1}}, {"ceil_mode", i64(1)}}));
  EXPECT_EQ(inferred(padded_pool), (Ints{1, 1, 2, 2}));
}

TEST(HostileShapes, ResizeAndRangeLengthsPastInt64AreRefused) {
  Graph resize;
  resize.add_input("x", DataType::Float32, Shape{1, 1, 4, 4});
  add_floats(resize, "roi", Shape{0}, {});
  add_floats(resize, "scales", Shape{4}, {1, 1, 1e30f, 1});
  resize.add_node("Resize", {"x", "roi", "scales"}, {"y"}, {}, "n");
  EXPECT_EQ(inference_error(resize), "node 'n' (Resize): input 2 ('scales', float32[4]) scales axis 2 of size 4 by "
                                     "1000000015047466219876688855040.000000, a size int64 cannot hold");
  Graph range;
  range.add_constant("start", Tensor::from(Shape{}, DataType::Float32, std::vector<float>{0}));
  range.add_constant("limit", Tensor::from(Shape{}, DataType::Float32, std::vector<float>{1e30f}));
  range.add_constant("delta", Tensor::from(Shape{}, DataType::Float32, std::vector<float>{1}));
  range.add_node("Range", {"start", "limit", "delta"}, {"y"}, {}, "n");
  EXPECT_EQ(inference_error(range), "node 'n' (Range): start 0.000000, limit 1000000015047466219876688855040.000000 "
                                    "and delta 1.000000 give 1000000015047466219876688855040.000000 values, a length "
                                    "int64 cannot hold");
  Graph nan_range;
  nan_range.add_constant("start", Tensor::from(Shape{}, DataType::Float32, std::vector<float>{0}));
  nan_range.add_constant(
      "limit", Tensor::from(Shape{}, DataType::Float32, std::vector<float>{std::numeric_limits<float>::infinity()}));
  nan_range.add_constant(
      "delta", Tensor::from(Shape{}, DataType::Float32, std::vector<float>{std::numeric_limits<float>::infinity()}));
  nan_range.add_node("Range", {"start", "limit", "delta"}, {"y"}, {}, "n");
  EXPECT_EQ(inference_error(nan_range), "node 'n' (Range): start 0.000000, limit inf and delta inf give no number of "
                                        "values, a length int64 cannot hold");
}

TEST(HostileShapes, GraphInputsWithNegativeDimensionsAreRefused) {
  Graph graph;
  EXPECT_EQ(one_line_error([&] {
              graph.add_input("x", DataType::Float32, Shape{1, -5});
            }),
            "graph input 'x' declares shape [1,-5] with the negative dimension -5 (dimensions are >= 0, or dynamic)");
  EXPECT_NO_THROW(graph.add_input("y", DataType::Float32, Shape{Shape::dynamic, 3}));
}

TEST(HostileShapes, UnknownShapeDataOfAHugeDeclaredLengthIsRefused) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{2, 3});
  graph.add_input("shape", DataType::Int64, Shape{two_to_32});
  graph.add_node("Reshape", {"x", "shape"}, {"y"}, {}, "n");
  EXPECT_EQ(inference_error(graph), "node 'n' (Reshape): output 0 would have 4294967296 dimensions (from the length of "
                                    "input 1 ('shape', int64[4294967296])); ranks over 4096 are refused");
}

namespace {

/// Host memory and a Tile kernel that is never reached: shapes are refused first.
class TileBackend final : public tern::Backend {
public:
  std::string name() const override { return "tiletest"; }
  std::shared_ptr<std::byte> allocate(std::size_t bytes) override { return tern::host_backend().allocate(bytes); }
};

void register_tile_backend() {
  if (tern::find_backend("tiletest") != nullptr) return;
  tern::register_backend(std::make_shared<TileBackend>());
  tern::register_kernels("tiletest", {tern::function_kernel("Tile", {DataType::Float32, DataType::Int64},
                                                            [](const tern::Node&, auto, auto) {})});
}

} // namespace

TEST(HostileScheduler, RunTimeShapesAreCheckedBeforeAllocating) {
  register_tile_backend();
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 1});
  graph.add_input("repeats", DataType::Int64, Shape{2});
  graph.add_node("Tile", {"x", "repeats"}, {"t"}, {}, "tile");
  graph.add_output("t");
  tern::SequentialScheduler scheduler(graph, {"tiletest"});
  const Tensor x(Shape{1, 1}, DataType::Float32);
  const auto repeat = [&](std::int64_t a, std::int64_t b) {
    return one_line_error([&] {
      (void)scheduler.forward({x, Tensor::from(Shape{2}, DataType::Int64, std::vector<std::int64_t>{a, b})});
    });
  };
  EXPECT_EQ(repeat(two_to_32, two_to_32),
            "node 'tile' (Tile): output 0 ('t') would be float32[4294967296,4294967296], more elements than int64 "
            "counts");
  EXPECT_EQ(repeat(std::int64_t{1} << 62, 1), "node 'tile' (Tile): output 't': a float32[4611686018427387904,1] "
                                              "tensor needs more than 9223372036854775807 bytes");
  const ScopedEnv limit("TERN_MAX_TENSOR_BYTES", "4096");
  EXPECT_EQ(repeat(2048, 1), "node 'tile' (Tile): output 't': a float32[2048,1] tensor needs 8192 bytes, over the "
                             "limit of 4096 bytes (TERN_MAX_TENSOR_BYTES)");
}

TEST(HostileScheduler, ReusedBuffersRespectTernMaxTensorBytes) {
  register_reference_backend();
  const Graph graph = relu_chain(3, 256);
  tern::SequentialScheduler scheduler(graph, {"reference"});
  const Tensor x = random_tensor(Shape{8, 256}, 1);
  const ScopedEnv limit("TERN_MAX_TENSOR_BYTES", "4096");
  EXPECT_EQ(one_line_error([&] { (void)scheduler.forward({x}); }),
            "node 'Relu_0' (Relu): output 'h0': a float32[8,256] tensor needs 8192 bytes, over the limit of 4096 "
            "bytes (TERN_MAX_TENSOR_BYTES)");
}
