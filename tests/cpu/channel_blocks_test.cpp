// channel_blocks on "cpu" (through prepare_for_inference): which channels-last regions move
// into blocks of channels, which stay, the block size they take, and that the blocked
// graph computes what the naive "reference" backend computes from the graph as written.
// The edge ops against index loops; shape inference of the blocked ops.
#include "graphs.hpp"
#include "reference_backend.hpp"

#include <tern/registry.hpp>
#include <tern/runtime.hpp>

#include <gtest/gtest.h>

#include <cstdlib>

namespace {

using tern::DataType;
using tern::Graph;
using tern::Shape;
using tern::Tensor;
using tern::test::close_to;
using tern::test::count_of;
using Ints = std::vector<std::int64_t>;

/// Builds float graphs on an input "x" from Conv, activations and the other ops of a
/// MobileNet: each method adds a node whose output it names.
struct Net {
  Graph graph;
  std::uint32_t seed = 20;
  std::string last;

  explicit Net(const Shape& x) {
    graph.add_input("x", DataType::Float32, x);
    last = "x";
  }
  /// Conv of `in` to `out` channels (group 0: depthwise), padding keeping the size at stride 1.
  std::string conv(const std::string& in, std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel,
                   std::int64_t group = 1, std::int64_t stride = 1) {
    if (group == 0) group = in_channels;
    const std::string out = "conv" + std::to_string(seed);
    graph.add_constant(out + "_w", tern::test::random_tensor(Shape{out_channels, in_channels / group, kernel, kernel},
                                                             seed++, -0.3f, 0.3f));
    graph.add_constant(out + "_b", tern::test::random_tensor(Shape{out_channels}, seed++));
    graph.add_node(
        "Conv", {in, out + "_w", out + "_b"}, {out},
        tern::test::attributes({{"pads", Ints(4, kernel / 2)}, {"group", group}, {"strides", Ints{stride, stride}}}),
        out);
    return last = out;
  }
  std::string op(const std::string& type, const std::vector<std::string>& inputs, tern::Attributes attrs = {}) {
    const std::string out = type + std::to_string(seed++);
    graph.add_node(type, inputs, {out}, std::move(attrs));
    return last = out;
  }
  std::string relu6(const std::string& in) {
    graph.add_constant("zero" + in, Tensor::from_floats(Shape{}, {0.0f}));
    graph.add_constant("six" + in, Tensor::from_floats(Shape{}, {6.0f}));
    return op("Clip", {in, "zero" + in, "six" + in});
  }
};

/// A small MobileNetV2 with the rest of what the recipe meets: an image Conv (3 channels,
/// read as it is), inverted residual blocks with 1x1 and depthwise Convs and ReLU6, a
/// residual Add, a squeeze-excitation (GlobalAveragePool, two 1x1 Convs, Sigmoid, Mul), a
/// MaxPool, a Concat along channels (unless `concat` is false), the head's pool. Two
/// outputs: "mid" (leaving the region halfway) and "y". `width`: the narrow blocks' channels.
Graph mobile_net(std::int64_t width, bool concat = true) {
  Net net(Shape{2, 3, 16, 16});
  const std::string stem = net.relu6(net.conv("x", 3, 16, 3, 1, 2));               // [2, 16, 8, 8]
  const std::string dw = net.relu6(net.conv(stem, 16, 16, 3, 0));                  // depthwise
  const std::string narrow = net.conv(dw, 16, width, 1);                           // 1x1 down
  const std::string wide = net.relu6(net.conv(narrow, width, 4 * width, 1));       // 1x1 up
  const std::string dw2 = net.relu6(net.conv(wide, 4 * width, 4 * width, 3, 0));   // depthwise
  const std::string back = net.conv(dw2, 4 * width, width, 1);                     // 1x1 down
  const std::string sum = net.op("Add", {back, narrow});                           // residual
  const std::string pooled = net.op("GlobalAveragePool", {sum});                   // squeeze
  const std::string squeezed = net.op("Relu", {net.conv(pooled, width, 16, 1)});   // excite
  const std::string scale = net.op("Sigmoid", {net.conv(squeezed, 16, width, 1)}); //
  const std::string excited = net.op("Mul", {sum, scale});                         //
  net.graph.add_node("Identity", {excited}, {"mid"});                              // leaves here
  const std::string halved =
      net.op("MaxPool", {excited}, tern::test::attributes({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}));
  std::string joined = halved;
  if (concat) {
    const std::string other = net.conv(halved, width, 16, 1);
    joined = net.op("Concat", {halved, other}, tern::test::attributes({{"axis", std::int64_t{1}}}));
  }
  const std::string head = net.conv(joined, concat ? width + 16 : width, 32, 1);
  net.graph.add_node("GlobalAveragePool", {head}, {"y"});
  net.graph.add_output("mid");
  net.graph.add_output("y");
  return std::move(net.graph);
}

/// `prepared` on "cpu" against `written` on the naive reference backend, for both outputs.
void expect_same_results(const Graph& written, const Graph& prepared) {
  tern::test::register_reference_backend();
  const Tensor x = tern::test::random_tensor(written.inputs()[0]->shape(), 7);
  tern::SequentialScheduler reference(written, {"reference"});
  tern::SequentialScheduler cpu(prepared, {"cpu"});
  const std::vector<Tensor> expected = reference.forward({x});
  const std::vector<Tensor> got = cpu.forward({x});
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(close_to(got[i], expected[i])) << "output " << i;
}

/// The block size the region took (every ConvBlocked has the same), 0 with none.
std::int64_t block_of(const Graph& graph) {
  std::int64_t block = 0;
  for (const tern::Node* node : graph.nodes())
    if (node->op_type() == "ConvBlocked") {
      EXPECT_TRUE(block == 0 || block == node->attr<std::int64_t>("block"));
      block = node->attr<std::int64_t>("block");
    }
  return block;
}

/// True when oneDNN is limited to AVX2 (CTest's second run of this suite): no blocks of 16.
bool limited_to_avx2() {
  const char* isa = std::getenv("DNNL_MAX_CPU_ISA");
  return isa != nullptr && std::string(isa) == "AVX2";
}

/// True when the cpu backend runs a Conv on blocks of 8 (it declines them where oneDNN's
/// AVX-512 kernels on channels last are faster), asked as the recipe asks.
bool runs_blocks_of_8() {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 1, 4, 4, 8});
  graph.add_constant("w", tern::test::random_tensor(Shape{8, 8, 1, 1}, 1));
  graph.add_node("ConvBlocked", {"x", "w"}, {"y"}, tern::test::attributes({{"block", std::int64_t{8}}}));
  graph.add_output("y");
  graph.infer_shapes();
  return tern::Registry::current().choose_kernel("cpu", tern::query_of(*graph.nodes().at(0))).kernel != nullptr;
}

TEST(ChannelBlocks, MobileNetRegionsRunOnBlocks) {
  // 24 channels fill blocks of 8 only; 32 fill blocks of 16 too, taken where oneDNN has
  // AVX-512 kernels (CTest runs this suite again limited to AVX2: then 8). Where the
  // backend declines blocks of 8, the 24-channel region stays channels last: its Concat
  // (24 + 16 channels) would need whole blocks of 16.
  for (const std::int64_t width : {24, 32}) {
    SCOPED_TRACE("width " + std::to_string(width));
    const Graph written = mobile_net(width);
    Graph prepared = written.clone();
    tern::prepare_for_inference(prepared, {"cpu"});
    if (width == 24 && !runs_blocks_of_8()) {
      EXPECT_FALSE(limited_to_avx2()) << "AVX2 kernels run blocks of 8";
      EXPECT_EQ(count_of(prepared, "ConvBlocked"), 0U);
      EXPECT_EQ(count_of(prepared, "ConvChannelsLast"), 10U);
      expect_same_results(written, prepared);
      continue;
    }
    EXPECT_EQ(count_of(prepared, "ConvBlocked"), 10U);
    EXPECT_EQ(count_of(prepared, "ConvChannelsLast"), 0U);
    EXPECT_EQ(count_of(prepared, "MaxPoolBlocked"), 1U);
    EXPECT_EQ(count_of(prepared, "GlobalAveragePoolBlocked"), 2U);
    // The image is read as it is; the region is left twice, for "mid" and for "y".
    EXPECT_EQ(count_of(prepared, "ToChannelBlocks"), 0U);
    EXPECT_EQ(count_of(prepared, "FromChannelBlocks"), 2U);
    EXPECT_EQ(count_of(prepared, "Transpose"), 0U);
    const std::int64_t block = block_of(prepared);
    EXPECT_TRUE(width == 24 || limited_to_avx2() ? block == 8 : block == 8 || block == 16) << block;
    expect_same_results(written, prepared);
  }
}

TEST(ChannelBlocks, ChannelsThatFillNoBlockRunOnPaddedBlocks) {
  // 20 and 80 channels fill no block of 16 and 20 none of 8: the region takes blocks of 16
  // (8 limited to AVX2) whose last is padded, and computes what the graph as written does
  // (the squeeze-excitation's Sigmoid turns the padding's zeros into 0.5: finite, and the
  // next Conv's weights are zero there). "mid" leaves with its 20 channels.
  for (const std::int64_t width : {12, 20}) {
    SCOPED_TRACE("width " + std::to_string(width));
    const Graph written = mobile_net(width, /*concat=*/false);
    Graph prepared = written.clone();
    tern::prepare_for_inference(prepared, {"cpu"});
    EXPECT_EQ(count_of(prepared, "ConvBlocked"), 9U);
    EXPECT_EQ(count_of(prepared, "ConvChannelsLast"), 0U);
    EXPECT_EQ(count_of(prepared, "FromChannelBlocks"), 2U);
    EXPECT_EQ(block_of(prepared), limited_to_avx2() ? 8 : 16);
    EXPECT_EQ(prepared.value("mid").shape(), (Shape{2, width, 8, 8}));
    expect_same_results(written, prepared);
  }
  // With the Concat along channels (20 + 16) the padding would land between the inputs.
  const Graph written = mobile_net(20);
  Graph prepared = written.clone();
  tern::prepare_for_inference(prepared, {"cpu"});
  EXPECT_EQ(count_of(prepared, "ConvBlocked"), 0U);
  expect_same_results(written, prepared);
}

/// A residual block of two 3x3 Convs over `channels` channels.
Graph residual_3x3(std::int64_t channels) {
  Net net(Shape{2, channels, 6, 6});
  const std::string a = net.op("Relu", {net.conv("x", channels, channels, 3)});
  net.graph.add_node("Add", {net.conv(a, channels, channels, 3), "x"}, {"y"});
  net.graph.add_output("y");
  return std::move(net.graph);
}

TEST(ChannelBlocks, NarrowDenseConvsRunOnBlocksOf16) {
  // 3x3s over 16 channels: faster on blocks of 16 than oneDNN's nhwc brgconv; on blocks of
  // 8 (no AVX-512) only depthwise and 1x1 Convs move.
  const Graph written = residual_3x3(16);
  Graph prepared = written.clone();
  tern::prepare_for_inference(prepared, {"cpu"});
  const std::int64_t block = block_of(prepared);
  EXPECT_EQ(count_of(prepared, "ConvBlocked"), block == 16 ? 2U : 0U);
  if (limited_to_avx2()) {
    EXPECT_EQ(block, 0);
  }
  expect_same_results(written, prepared);
}

TEST(ChannelBlocks, OtherRegionsStayChannelsLast) {
  // 3x3s over 64 channels (a ResNet's): nhwc brgconv is as fast.
  {
    const Graph written = residual_3x3(64);
    Graph prepared = written.clone();
    tern::prepare_for_inference(prepared, {"cpu"});
    EXPECT_EQ(count_of(prepared, "ConvChannelsLast"), 2U);
    EXPECT_EQ(count_of(prepared, "ConvBlocked"), 0U);
    expect_same_results(written, prepared);
  }
  // Channels that fill no block (12) divided: padding would hold 0 / 0, a NaN that the
  // next Conv's zero weights do not cancel. The region stays channels last as a whole.
  {
    Net net(Shape{2, 16, 8, 8});
    const std::string a = net.conv("x", 16, 12, 1);
    const std::string b = net.op("Sigmoid", {net.conv("x", 16, 12, 1)});
    const std::string ratio = net.op("Div", {net.conv(a, 12, 12, 3, 0), b});
    net.graph.add_node("Relu", {net.conv(ratio, 12, 16, 1)}, {"y"});
    net.graph.add_output("y");
    const Graph written = net.graph.clone();
    tern::prepare_for_inference(net.graph, {"cpu"});
    EXPECT_EQ(count_of(net.graph, "ConvChannelsLast"), 4U);
    EXPECT_EQ(count_of(net.graph, "ConvBlocked"), 0U);
    expect_same_results(written, net.graph);
  }
}

TEST(ChannelBlocks, EdgesMoveChannelsIntoBlocksAndBack) {
  // 32 channels fill blocks of 8 and 16; 20 fill neither: the last block is padded with zeros.
  for (const std::int64_t channels : {32, 20})
    for (const std::int64_t block : {8, 16}) {
      const std::int64_t held = (channels + block - 1) / block; // blocks
      Graph graph;
      graph.add_input("x", DataType::Float32, Shape{2, channels, 3, 5});
      graph.add_node("ToChannelBlocks", {"x"}, {"blocks"}, tern::test::attributes({{"block", block}}));
      graph.add_node("FromChannelBlocks", {"blocks"}, {"back"}, tern::test::attributes({{"channels", channels}}));
      graph.add_output("blocks");
      graph.add_output("back");
      const Tensor x = tern::test::random_tensor(Shape{2, channels, 3, 5}, 3);
      tern::SequentialScheduler cpu(graph, {"cpu"}); // any CPU reorders blocks of 8 and 16
      const std::vector<Tensor> out = cpu.forward({x});
      ASSERT_EQ(out[0].shape(), (Shape{2, held, 3, 5, block}));
      const float* in = x.data<float>();
      const float* blocks = out[0].data<float>();
      for (std::int64_t n = 0; n < 2; ++n)
        for (std::int64_t c = 0; c < held * block; ++c)
          for (std::int64_t p = 0; p < 15; ++p) // [n][c / b][p][c % b] of [n][c][p], zero past the channels
            ASSERT_EQ(blocks[((n * held + c / block) * 15 + p) * block + c % block],
                      c < channels ? in[(n * channels + c) * 15 + p] : 0.0f)
                << channels << " channels, blocks of " << block << ", c " << c;
      EXPECT_EQ(tern::test::max_abs_diff(out[1], x), 0.0);
    }
}

TEST(ChannelBlocks, ShapeInferenceChecksTheBlocks) {
  // block: ConvBlocked's and ToChannelBlocks' attribute; FromChannelBlocks' 'channels'.
  const auto infer = [](const char* op, const Shape& x, std::int64_t block, const Shape& w = Shape{16, 8, 1, 1}) {
    Graph graph;
    graph.add_input("x", DataType::Float32, x);
    std::vector<std::string> inputs{"x"};
    tern::Attributes attrs;
    if (block > 0) attrs.set(std::string(op) == "FromChannelBlocks" ? "channels" : "block", block);
    if (std::string(op) == "ConvBlocked") {
      graph.add_input("w", DataType::Float32, w);
      inputs.push_back("w");
    }
    graph.add_node(op, inputs, {"y"}, attrs);
    graph.add_output("y");
    graph.infer_shapes();
    return graph.value("y").shape();
  };
  EXPECT_EQ(infer("ToChannelBlocks", Shape{1, 16, 4, 4}, 8), (Shape{1, 2, 4, 4, 8}));
  EXPECT_EQ(infer("FromChannelBlocks", Shape{1, 2, 4, 4, 8}, 0), (Shape{1, 16, 4, 4}));
  EXPECT_EQ(infer("ConvBlocked", Shape{1, 1, 4, 4, 8}, 8), (Shape{1, 2, 4, 4, 8}));
  EXPECT_EQ(infer("ConvBlocked", Shape{1, 8, 4, 4}, 16), (Shape{1, 1, 4, 4, 16})); // a plain image
  EXPECT_EQ(infer("GlobalAveragePoolBlocked", Shape{1, 2, 4, 4, 8}, 0), (Shape{1, 2, 1, 1, 8}));
  // Padded: 12 channels in two blocks of 8, 20 output channels in two blocks of 16.
  EXPECT_EQ(infer("ToChannelBlocks", Shape{1, 12, 4, 4}, 8), (Shape{1, 2, 4, 4, 8}));
  EXPECT_EQ(infer("FromChannelBlocks", Shape{1, 2, 4, 4, 8}, 12), (Shape{1, 12, 4, 4}));
  EXPECT_EQ(infer("ConvBlocked", Shape{1, 2, 4, 4, 8}, 8, Shape{20, 12, 1, 1}), (Shape{1, 3, 4, 4, 8}));
  EXPECT_EQ(infer("ConvBlocked", Shape{1, 8, 4, 4}, 16, Shape{20, 8, 1, 1}), (Shape{1, 2, 4, 4, 16}));
  const auto fails = [&](const char* op, const Shape& x, std::int64_t block, const std::string& expected,
                         const Shape& w = Shape{16, 8, 1, 1}) {
    try {
      infer(op, x, block, w);
      ADD_FAILURE() << op << " on " << x.to_string() << " was accepted";
    } catch (const tern::Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  fails("ConvBlocked", Shape{1, 1, 4, 4, 8}, 16, "is not in blocks of attribute 'block' 16");
  fails("ConvBlocked", Shape{1, 1, 4, 4, 8}, 8, "= 12, but input 0 ('x', float32[1,1,4,4,8]) has 8 channels (padded",
        Shape{16, 12, 1, 1});
  fails("FromChannelBlocks", Shape{1, 2, 4, 4, 8}, 8,
        "attribute 'channels' is 8, but input 0 ('x', float32[1,2,4,4,8]) holds 16 in blocks of 8");
}

} // namespace
