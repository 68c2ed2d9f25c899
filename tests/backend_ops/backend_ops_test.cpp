// One table of small op cases, run on the backend named by TERN_BACKEND_UNDER_TEST
// (default "cpu") and compared element by element with the same graph on the in-process
// "reference" backend (tests/support/reference_backend.cpp: naive loops written for
// clarity), in the spirit of ggml's test-backend-ops and OpenVINO's shared test instances:
// a backend gets every case checked by one more CTest line (tests/backend_ops/CMakeLists.txt).
//
// A backend with no kernel row for a node, or whose row declines it, makes the scheduler
// throw "no backend of (...) runs ...": the case is then skipped with that reason, the
// documented way for a backend to say "not mine". The "cpu" backend must run every case,
// so there a decline fails the case instead.

#include "graphs.hpp"
#include "op_testing.hpp"
#include "reference_backend.hpp"

#include <tern/scheduler.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using tern::Attributes;
using tern::Graph;
using tern::SequentialScheduler;
using tern::Shape;
using tern::Tensor;
using tern::test::attrs;
using tern::test::constant;
using tern::test::Feed;
using tern::test::i64;
using tern::test::input;
using tern::test::Ints;
using tern::test::text;

// --- the cases ------------------------------------------------------------------------

/// One node of a case: its op type, input names (empty: an absent optional input),
/// attributes and single output.
struct Step {
  std::string op;
  std::vector<std::string> inputs;
  Attributes attributes;
  std::string output;
};

/// A graph of one or two nodes ending in value "y", and what feeds it.
struct OpCase {
  std::string name;        ///< the test's name: <Op>_<what it varies>
  std::vector<Feed> feeds; ///< graph inputs (given to forward) and constants (weights, bounds)
  std::vector<Step> steps; ///< in execution order; the last one writes "y"
};

/// gtest prints a failing parameter with this (rather than its bytes).
[[maybe_unused]] void PrintTo(const OpCase& c, std::ostream* out) { *out << c.name; }

/// Deterministic random float32 data, uniform in [low, high).
Tensor data(Shape shape, std::uint32_t seed, float low = -1.0f, float high = 1.0f) {
  return tern::test::random_tensor(shape, seed, low, high);
}
/// A float32 scalar (Clip's bounds, a scalar Gemm C or Add operand).
Tensor scalar(float value) { return Tensor::from_floats(Shape{}, {value}); }
/// An absent optional input (keeps its position: Clip(x, , max)).
Feed absent() { return Feed{}; }

/// One `op` node over `feeds`, given in the node's input order, writing "y".
OpCase single(std::string name, std::string op, std::vector<Feed> feeds, Attributes attributes = {}) {
  std::vector<std::string> inputs;
  std::vector<Feed> present;
  for (Feed& feed : feeds) {
    inputs.push_back(feed.name);
    if (!feed.name.empty()) present.push_back(std::move(feed));
  }
  return {std::move(name), std::move(present), {{std::move(op), std::move(inputs), std::move(attributes), "y"}}};
}

/// `first`, whose node now writes "h", followed by an `op` node reading "h" as its input 0
/// and `extra` after it: the pairs backends may fuse into one kernel (cpu: Conv+MaxPool,
/// Add+Relu, Flatten+Gemm) and pairs they run as two.
OpCase then(std::string name, OpCase first, std::string op, std::vector<Feed> extra = {}, Attributes attributes = {}) {
  first.name = std::move(name);
  first.steps.back().output = "h";
  std::vector<std::string> inputs{"h"};
  for (Feed& feed : extra) {
    inputs.push_back(feed.name);
    if (!feed.name.empty()) first.feeds.push_back(std::move(feed));
  }
  first.steps.push_back({std::move(op), std::move(inputs), std::move(attributes), "y"});
  return first;
}

// Sizes are small (every case runs in milliseconds on the reference loops) but not
// trivial: odd spatial sizes, batch 2, channel counts both below and at oneDNN's blocking.
// Reductions stay under ~300 terms, which the tolerance below is argued for.
std::vector<OpCase> conv_cases() {
  const auto x = [](Shape shape, std::uint32_t seed) { return input("x", data(shape, seed)); };
  const auto w = [](Shape shape, std::uint32_t seed) { return constant("w", data(shape, seed)); };
  const auto b = [](std::int64_t channels, std::uint32_t seed) { return constant("b", data(Shape{channels}, seed)); };
  return {
      // 2-D
      single("Conv2D_NoBias", "Conv", {x({2, 3, 7, 8}, 1), w({4, 3, 3, 3}, 2)}),
      single("Conv2D_Bias", "Conv", {x({2, 3, 7, 8}, 3), w({4, 3, 3, 3}, 4), b(4, 5)}),
      single("Conv2D_Pads", "Conv", {x({2, 3, 7, 8}, 6), w({4, 3, 3, 3}, 7), b(4, 8)},
             attrs({{"pads", Ints{1, 1, 1, 1}}})),
      // pads are [H begin, W begin, H end, W end]: all four different
      single("Conv2D_AsymmetricPads", "Conv", {x({2, 3, 6, 7}, 9), w({4, 3, 3, 3}, 10), b(4, 11)},
             attrs({{"pads", Ints{0, 2, 1, 3}}})),
      single("Conv2D_Strides", "Conv", {x({2, 3, 9, 10}, 12), w({4, 3, 3, 3}, 13), b(4, 14)},
             attrs({{"strides", Ints{2, 3}}, {"pads", Ints{1, 1, 1, 1}}})),
      single("Conv2D_Dilations", "Conv", {x({2, 3, 9, 10}, 15), w({4, 3, 3, 3}, 16)},
             attrs({{"dilations", Ints{2, 3}}, {"pads", Ints{2, 1, 2, 1}}})),
      single("Conv2D_StridesDilationsPads", "Conv", {x({1, 4, 11, 12}, 17), w({6, 4, 3, 2}, 18), b(6, 19)},
             attrs({{"strides", Ints{2, 2}}, {"dilations", Ints{2, 1}}, {"pads", Ints{1, 0, 2, 1}}})),
      single("Conv2D_NonSquareKernel", "Conv", {x({2, 3, 6, 9}, 20), w({4, 3, 1, 5}, 21), b(4, 22)},
             attrs({{"pads", Ints{0, 2, 0, 2}}})),
      single("Conv2D_Pointwise", "Conv", {x({2, 6, 5, 5}, 23), w({5, 6, 1, 1}, 24), b(5, 25)}),
      single("Conv2D_Groups", "Conv", {x({2, 6, 6, 6}, 26), w({4, 3, 3, 3}, 27), b(4, 28)}, attrs({{"group", i64(2)}})),
      single("Conv2D_Depthwise", "Conv", {x({2, 8, 7, 7}, 29), w({8, 1, 3, 3}, 30), b(8, 31)},
             attrs({{"group", i64(8)}, {"pads", Ints{1, 1, 1, 1}}})),
      // two output channels per input channel
      single("Conv2D_DepthwiseMultiplier", "Conv", {x({1, 4, 6, 6}, 32), w({8, 1, 3, 3}, 33)},
             attrs({{"group", i64(4)}})),
      // 288-term sums over channel counts oneDNN blocks by
      single("Conv2D_ManyChannels", "Conv", {x({1, 32, 8, 8}, 34), w({48, 32, 3, 3}, 35), b(48, 36)},
             attrs({{"pads", Ints{1, 1, 1, 1}}})),
      // an even kernel with stride 2 over 7 needs one pad in total: after (UPPER), before (LOWER)
      single("Conv2D_AutoPadSameUpper", "Conv", {x({1, 3, 7, 7}, 37), w({4, 3, 2, 2}, 38), b(4, 39)},
             attrs({{"auto_pad", text("SAME_UPPER")}, {"strides", Ints{2, 2}}})),
      single("Conv2D_AutoPadSameLower", "Conv", {x({1, 3, 7, 7}, 40), w({4, 3, 2, 2}, 41), b(4, 42)},
             attrs({{"auto_pad", text("SAME_LOWER")}, {"strides", Ints{2, 2}}})),
      single("Conv2D_AutoPadValid", "Conv", {x({1, 3, 7, 8}, 43), w({4, 3, 3, 3}, 44)},
             attrs({{"auto_pad", text("VALID")}, {"strides", Ints{2, 2}}})),
      // Tern's fused-activation attributes (what the fuse_activations pass writes)
      single("Conv2D_FusedRelu", "Conv", {x({2, 3, 6, 6}, 45), w({4, 3, 3, 3}, 46), b(4, 47)},
             attrs({{"pads", Ints{1, 1, 1, 1}}, {"activation", text("Relu")}})),
      single("Conv2D_FusedLeakyRelu", "Conv", {x({2, 3, 6, 6}, 48), w({4, 3, 3, 3}, 49), b(4, 50)},
             attrs({{"activation", text("LeakyRelu")}, {"activation_alpha", 0.1}})),
      // 1-D: X [N, C, W], W [M, C/group, k]
      single("Conv1D_NoBias", "Conv", {x({2, 4, 12}, 51), w({6, 4, 3}, 52)}),
      single("Conv1D_Bias", "Conv", {x({2, 4, 12}, 53), w({6, 4, 3}, 54), b(6, 55)}),
      single("Conv1D_PadsStridesDilations", "Conv", {x({2, 4, 15}, 56), w({5, 4, 3}, 57), b(5, 58)},
             attrs({{"pads", Ints{2, 1}}, {"strides", Ints{2}}, {"dilations", Ints{2}}})),
      single("Conv1D_Groups", "Conv", {x({2, 6, 10}, 59), w({6, 2, 3}, 60), b(6, 61)},
             attrs({{"group", i64(3)}, {"pads", Ints{1, 1}}})),
      single("Conv1D_Depthwise", "Conv", {x({1, 5, 9}, 62), w({5, 1, 4}, 63)}, attrs({{"group", i64(5)}})),
      single("Conv1D_AutoPadSameUpper", "Conv", {x({1, 3, 9}, 64), w({2, 3, 4}, 65)},
             attrs({{"auto_pad", text("SAME_UPPER")}, {"strides", Ints{2}}})),
  };
}

std::vector<OpCase> gemm_cases() {
  // Y[5, 4] = alpha * A' B' + beta * C; A is the graph input, B and C weights.
  const auto a = [](Shape shape, std::uint32_t seed) { return input("a", data(shape, seed)); };
  const auto b = [](Shape shape, std::uint32_t seed) { return constant("b", data(shape, seed)); };
  const auto c = [](Shape shape, std::uint32_t seed) { return constant("c", data(shape, seed)); };
  const auto trans = [](std::int64_t ta, std::int64_t tb) { return attrs({{"transA", i64(ta)}, {"transB", i64(tb)}}); };
  return {
      single("Gemm_NoC", "Gemm", {a({5, 7}, 101), b({7, 4}, 102)}),
      single("Gemm_TransA", "Gemm", {a({7, 5}, 103), b({7, 4}, 104)}, trans(1, 0)),
      single("Gemm_TransB", "Gemm", {a({5, 7}, 105), b({4, 7}, 106)}, trans(0, 1)),
      single("Gemm_TransATransB", "Gemm", {a({7, 5}, 107), b({4, 7}, 108), c({5, 4}, 109)}, trans(1, 1)),
      single("Gemm_AlphaNoC", "Gemm", {a({5, 7}, 110), b({7, 4}, 111)}, attrs({{"alpha", 2.5}})),
      single("Gemm_AlphaBetaFullC", "Gemm", {a({5, 7}, 112), b({7, 4}, 113), c({5, 4}, 114)},
             attrs({{"alpha", 0.5}, {"beta", -2.0}})),
      // C broadcasts to [5, 4] from every shape ONNX allows
      single("Gemm_BroadcastCVector", "Gemm", {a({5, 7}, 115), b({7, 4}, 116), c({4}, 117)}),
      single("Gemm_BroadcastCRow", "Gemm", {a({5, 7}, 118), b({4, 7}, 119), c({1, 4}, 120)},
             attrs({{"transB", i64(1)}, {"beta", 0.25}})),
      single("Gemm_BroadcastCColumn", "Gemm", {a({5, 7}, 121), b({7, 4}, 122), c({5, 1}, 123)}, attrs({{"beta", 0.5}})),
      single("Gemm_BroadcastCScalar", "Gemm", {a({5, 7}, 124), b({7, 4}, 125), constant("c", scalar(0.75f))},
             attrs({{"alpha", 1.5}, {"beta", 2.0}})),
      // B fed at run time, not a weight
      single("Gemm_BFromGraphInput", "Gemm", {a({5, 7}, 126), input("b", data({7, 4}, 127)), c({4}, 128)}),
      // Tern extension: an A of rank 4 reads as [dim 0, the rest] (a Flatten(axis=1) before it)
      single("Gemm_RankFourA", "Gemm", {a({2, 3, 2, 2}, 129), b({12, 4}, 130), c({4}, 131)}),
      // 200-term sums
      single("Gemm_LongSums", "Gemm", {a({3, 200}, 132), b({9, 200}, 133), c({9}, 134)}, trans(0, 1)),
      single("Gemm_FusedLeakyRelu", "Gemm", {a({5, 7}, 135), b({7, 4}, 136), c({4}, 137)},
             attrs({{"activation", text("LeakyRelu")}, {"activation_alpha", 0.2}})),
  };
}

std::vector<OpCase> elementwise_cases() {
  const auto x = [](Shape shape, std::uint32_t seed, float low = -1.0f, float high = 1.0f) {
    return input("x", data(shape, seed, low, high));
  };
  const auto y = [](Shape shape, std::uint32_t seed) { return input("b", data(shape, seed)); };
  const auto k = [](Shape shape, std::uint32_t seed) { return constant("b", data(shape, seed)); };
  return {
      single("Relu", "Relu", {x({2, 3, 4, 5}, 201)}),
      single("Relu_Rank1", "Relu", {x({17}, 202)}),
      // wide enough for both tails of the curve
      single("Sigmoid", "Sigmoid", {x({2, 3, 4, 5}, 203, -8.0f, 8.0f)}),
      single("Sigmoid_Rank2", "Sigmoid", {x({3, 7}, 204, -3.0f, 3.0f)}),
      // numpy broadcasting: right-aligned, 1 stretches, missing leading axes are 1
      single("Add_SameShape", "Add", {x({2, 3, 4, 5}, 205), y({2, 3, 4, 5}, 206)}),
      single("Add_BroadcastLastAxis", "Add", {x({2, 3, 4}, 207), k({4}, 208)}),
      single("Add_BroadcastChannel", "Add", {x({2, 3, 4, 5}, 209), k({3, 1, 1}, 210)}),
      single("Add_BroadcastBothSides", "Add", {x({2, 1, 4}, 211), y({3, 1}, 212)}),
      single("Add_SmallerFirst", "Add", {x({4}, 213), y({2, 3, 4}, 214)}),
      single("Add_Scalar", "Add", {x({2, 3}, 215), constant("b", scalar(0.5f))}),
      single("Mul_SameShape", "Mul", {x({2, 3, 4, 5}, 216), y({2, 3, 4, 5}, 217)}),
      single("Mul_BroadcastChannel", "Mul", {x({2, 3, 4, 5}, 218), k({1, 3, 1, 1}, 219)}),
      single("Mul_BroadcastBothSides", "Mul", {x({3, 1, 5}, 220), y({1, 4, 1}, 221)}),
      single("Mul_SmallerFirst", "Mul", {x({5}, 222), y({2, 3, 5}, 223)}),
      single("Mul_Scalar", "Mul", {x({2, 3}, 224), constant("b", scalar(-3.0f))}),
      // Clip: min and max are optional scalar inputs; x spans both bounds
      single("Clip_MinMax", "Clip",
             {x({2, 3, 4, 5}, 225, -2.0f, 2.0f), constant("min", scalar(-0.5f)), constant("max", scalar(0.75f))}),
      single("Clip_MinOnly", "Clip", {x({2, 3, 4, 5}, 226, -2.0f, 2.0f), constant("min", scalar(-0.25f))}),
      single("Clip_MaxOnly", "Clip", {x({2, 3, 4, 5}, 227, -2.0f, 2.0f), absent(), constant("max", scalar(0.5f))}),
      single("Clip_NoBounds", "Clip", {x({2, 3, 4, 5}, 228, -2.0f, 2.0f)}),
      single("Clip_BoundsFromGraphInputs", "Clip",
             {x({2, 3, 4, 5}, 229, -2.0f, 2.0f), input("min", scalar(-1.0f)), input("max", scalar(0.25f))}),
  };
}

std::vector<OpCase> layout_and_normalization_cases() {
  const auto x = [](Shape shape, std::uint32_t seed) { return input("x", data(shape, seed)); };
  const auto flatten = [&](std::string name, std::int64_t axis) {
    return single(std::move(name), "Flatten", {x({2, 3, 4, 5}, 301)}, attrs({{"axis", i64(axis)}}));
  };
  // X, scale, B, mean, var (var > 0) over the channels of axis 1
  const auto batch_norm = [](std::string name, Shape shape, std::uint32_t seed, Attributes attributes = {}) {
    const std::int64_t channels = shape[1];
    return single(std::move(name), "BatchNormalization",
                  {input("x", data(shape, seed)), constant("scale", data(Shape{channels}, seed + 1, 0.5f, 2.0f)),
                   constant("bias", data(Shape{channels}, seed + 2)), constant("mean", data(Shape{channels}, seed + 3)),
                   constant("var", data(Shape{channels}, seed + 4, 0.1f, 2.0f))},
                  std::move(attributes));
  };
  return {
      flatten("Flatten_Axis1", 1),
      flatten("Flatten_Axis0", 0),
      flatten("Flatten_Axis2", 2),
      flatten("Flatten_AxisRank", 4),
      flatten("Flatten_AxisNegative", -1),
      batch_norm("BatchNormalization_4D", {2, 3, 5, 4}, 310),
      batch_norm("BatchNormalization_2D", {4, 6}, 320),
      batch_norm("BatchNormalization_3DEpsilon", {2, 4, 7}, 330, attrs({{"epsilon", 1e-2}})),
      batch_norm("BatchNormalization_ManyChannels", {1, 32, 3, 3}, 340),
  };
}

std::vector<OpCase> max_pool_cases() {
  const auto x = [](Shape shape, std::uint32_t seed, float low = -1.0f, float high = 1.0f) {
    return input("x", data(shape, seed, low, high));
  };
  const auto pool = [](Ints kernel, std::vector<std::pair<std::string, tern::Attribute>> more = {}) {
    more.emplace_back("kernel_shape", std::move(kernel));
    return attrs(std::move(more));
  };
  return {
      single("MaxPool2D_Kernel2Stride2", "MaxPool", {x({2, 3, 8, 8}, 401)}, pool({2, 2}, {{"strides", Ints{2, 2}}})),
      single("MaxPool2D_Overlapping", "MaxPool", {x({2, 3, 6, 7}, 402)}, pool({3, 3})),
      single("MaxPool2D_PadsStrides", "MaxPool", {x({1, 2, 7, 9}, 403)},
             pool({3, 3}, {{"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}})),
      single("MaxPool2D_AsymmetricPads", "MaxPool", {x({2, 2, 6, 7}, 404)},
             pool({3, 2}, {{"strides", Ints{1, 2}}, {"pads", Ints{1, 0, 0, 1}}})),
      // all inputs negative: a padded position counted as 0 would win
      single("MaxPool2D_NegativeInputPads", "MaxPool", {x({1, 2, 5, 5}, 405, -2.0f, -1.0f)},
             pool({3, 3}, {{"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}})),
      single("MaxPool2D_Dilations", "MaxPool", {x({1, 2, 7, 7}, 406)}, pool({2, 2}, {{"dilations", Ints{2, 2}}})),
      // 8 wide, window 3, stride 2: 3 windows rounded down, 4 with ceil_mode
      single("MaxPool2D_CeilMode", "MaxPool", {x({1, 2, 8, 8}, 407)},
             pool({3, 3}, {{"strides", Ints{2, 2}}, {"ceil_mode", i64(1)}})),
      single("MaxPool2D_AutoPadSameUpper", "MaxPool", {x({1, 2, 7, 7}, 408, -2.0f, -1.0f)},
             pool({2, 2}, {{"strides", Ints{2, 2}}, {"auto_pad", text("SAME_UPPER")}})),
      single("MaxPool2D_ManyChannels", "MaxPool", {x({2, 32, 6, 6}, 409)}, pool({2, 2}, {{"strides", Ints{2, 2}}})),
      single("MaxPool1D", "MaxPool", {x({2, 3, 10}, 410)}, pool({3}, {{"strides", Ints{2}}, {"pads", Ints{1, 1}}})),
  };
}

std::vector<OpCase> pair_cases() {
  const auto x = [](Shape shape, std::uint32_t seed) { return input("x", data(shape, seed)); };
  const auto conv = [&](std::uint32_t seed) {
    return single(
        "", "Conv",
        {x({2, 3, 8, 8}, seed), constant("w", data({4, 3, 3, 3}, seed + 1)), constant("b", data({4}, seed + 2))},
        attrs({{"pads", Ints{1, 1, 1, 1}}}));
  };
  const auto flatten = [&](std::uint32_t seed) {
    return single("", "Flatten", {x({2, 3, 4, 4}, seed)}, attrs({{"axis", i64(1)}}));
  };
  return {
      then("Conv_Relu", conv(501), "Relu"),
      then("Conv_MaxPool", conv(504), "MaxPool", {}, attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}})),
      then("Conv_MaxPoolPads", conv(507), "MaxPool", {},
           attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}})),
      then("Add_Relu", single("", "Add", {x({2, 3, 4, 5}, 510), input("b", data({2, 3, 4, 5}, 511))}), "Relu"),
      then("Add_Relu_Broadcast", single("", "Add", {x({2, 3, 4, 5}, 512), constant("b", data({3, 1, 1}, 513))}),
           "Relu"),
      then("Flatten_Gemm", flatten(514), "Gemm", {constant("w", data({48, 10}, 515)), constant("c", data({10}, 516))}),
      then("Flatten_Gemm_TransB", flatten(517), "Gemm",
           {constant("w", data({10, 48}, 518)), constant("c", data({10}, 519))}, attrs({{"transB", i64(1)}})),
      then("Gemm_Sigmoid",
           single("", "Gemm", {x({5, 7}, 520), constant("w", data({7, 4}, 521)), constant("c", data({4}, 522))}),
           "Sigmoid"),
      then("BatchNormalization_Relu",
           single("", "BatchNormalization",
                  {x({2, 3, 4, 4}, 523), constant("scale", data({3}, 524)), constant("bias", data({3}, 525)),
                   constant("mean", data({3}, 526)), constant("var", data({3}, 527, 0.1f, 2.0f))}),
           "Relu"),
  };
}

/// The table: every case, on every backend.
std::vector<OpCase> all_cases() {
  std::vector<OpCase> cases;
  for (auto group : {conv_cases(), gemm_cases(), elementwise_cases(), layout_and_normalization_cases(),
                     max_pool_cases(), pair_cases()})
    cases.insert(cases.end(), group.begin(), group.end());
  return cases;
}

// --- the runner -----------------------------------------------------------------------

/// TERN_BACKEND_UNDER_TEST, lower-cased as backend names compare (default "cpu").
std::string backend_under_test() {
  const char* name = std::getenv("TERN_BACKEND_UNDER_TEST");
  return tern::lowercase(name != nullptr && *name != '\0' ? name : "cpu");
}

/// Why the backend under test cannot be loaded ("" when it can): asked once per process,
/// the plugin host remembers the answer anyway.
const std::string& load_error() {
  static const std::string error = [] {
    try {
      tern::backend(backend_under_test());
      return std::string();
    } catch (const tern::Error& e) {
      return std::string(e.what());
    }
  }();
  return error;
}

/// The case's graph, and the tensors its graph inputs take, in order.
struct Built {
  Graph graph;
  std::vector<Tensor> inputs;
};

Built build(const OpCase& c) {
  Built built;
  for (const Feed& feed : c.feeds) {
    if (feed.constant) {
      built.graph.add_constant(feed.name, feed.value);
    } else {
      built.graph.add_input(feed.name, feed.value.dtype(), feed.value.shape());
      built.inputs.push_back(feed.value);
    }
  }
  for (const Step& step : c.steps) built.graph.add_node(step.op, step.inputs, {step.output}, step.attributes);
  built.graph.add_output("y");
  return built;
}

/// "[1,0,2,3]": the coordinates of element `flat` of a row-major tensor of `shape`.
std::string coordinates(const Shape& shape, std::size_t flat) {
  std::vector<std::int64_t> at(shape.rank());
  auto rest = static_cast<std::int64_t>(flat);
  for (std::size_t k = shape.rank(); k-- > 0;) {
    at[k] = rest % shape[k];
    rest /= shape[k];
  }
  std::string text = "[";
  for (std::size_t k = 0; k < at.size(); ++k) text += (k ? "," : "") + std::to_string(at[k]);
  return text + "]";
}

// float32 tolerance: |actual - reference| <= atol + rtol * |reference|. The reference sums
// Conv and Gemm products in double and rounds once; a backend sums in float32, in its own
// order (blocked, vectorised, fused multiply-add), and computes exp with its own
// approximation. Each float32 operation may err by half an ulp (6e-8 relative), so sums of
// up to a few hundred terms of magnitude <= 1 stay well inside 1e-4 relative; atol covers
// results that cancel to near zero, where the relative bound means nothing (the same
// sums' absolute error is a few 1e-6 at most). Data movement (Flatten, MaxPool, Relu)
// must match exactly and does, well inside the bound.
constexpr double rtol = 1e-4;
constexpr double atol = 1e-5;

/// Fails with the first element outside the tolerance (NaN never is inside), and how many.
void expect_close(const Tensor& actual, const Tensor& expected) {
  ASSERT_EQ(actual.dtype(), expected.dtype());
  ASSERT_EQ(actual.shape(), expected.shape());
  const std::vector<double> got = actual.to_doubles(), want = expected.to_doubles();
  std::size_t first = got.size(), differing = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!(std::abs(got[i] - want[i]) <= atol + rtol * std::abs(want[i]))) {
      if (differing++ == 0) first = i;
    }
  if (differing == 0) return;
  std::ostringstream message;
  message << std::setprecision(9) << differing << " of " << got.size()
          << " elements differ from the reference; first at " << coordinates(expected.shape(), first) << " (flat "
          << first << "): got " << got[first] << ", reference " << want[first] << " (|diff| "
          << std::abs(got[first] - want[first]) << " > " << atol + rtol * std::abs(want[first]) << ")";
  ADD_FAILURE() << message.str();
}

class BackendOps : public ::testing::TestWithParam<OpCase> {
protected:
  void SetUp() override {
    tern::test::register_reference_backend();
    const std::string& error = load_error();
    if (error.empty()) return;
    // A plugin whose probe finds no usable device (cuda without a GPU) skips every case
    // with the probe's reason; "cpu" must always load, and a missing or broken plugin is
    // a broken build, not a skip.
    if (backend_under_test() != "cpu" && error.find("is unusable on this machine") != std::string::npos)
      GTEST_SKIP() << "backend under test is unusable: " << error;
    FAIL() << "backend '" << backend_under_test() << "' cannot be loaded: " << error;
  }
};

TEST_P(BackendOps, MatchesReference) {
  const OpCase& c = GetParam();
  const Built built = build(c);
  const std::string backend = backend_under_test();

  // The reference first: it must run every case in the table (else the table is wrong).
  SequentialScheduler reference(built.graph, {"reference"});
  const Tensor expected = reference.forward(built.inputs).at(0);

  std::optional<SequentialScheduler> under_test;
  try {
    under_test.emplace(built.graph, std::vector<std::string>{backend});
  } catch (const tern::Error& e) {
    const std::string why = e.what();
    if (!why.starts_with("no backend of (")) FAIL() << "compiling the case on '" << backend << "' failed: " << why;
    if (backend == "cpu") FAIL() << "cpu must run every case, but it declined: " << why;
    GTEST_SKIP() << why;
  }
  for (const tern::PlanStep& step : under_test->plan()) EXPECT_EQ(step.backend, backend) << step.node->describe();
  // Output tensors may live in the backend's memory: compare a host copy.
  const Tensor actual = under_test->forward(built.inputs).at(0).to(tern::host_backend());
  expect_close(actual, expected);
}

std::string case_name(const ::testing::TestParamInfo<OpCase>& param) { return param.param.name; }

INSTANTIATE_TEST_SUITE_P(Table, BackendOps, ::testing::ValuesIn(all_cases()), case_name);

} // namespace
