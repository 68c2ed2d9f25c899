// Loading ONNX models through tern::load_model: constants, shapes, dynamic batch,
// attribute conversion and the opset normalisations.
#include "model_builder.hpp"

#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tern::onnx_test {
namespace {

using Ints = std::vector<std::int64_t>;

Graph load(const ModelBuilder& builder, const TempDir& dir, const std::string& file = "model.onnx") {
  return load_model(builder.save(dir / file));
}

std::vector<std::string> op_types(const Graph& graph) {
  std::vector<std::string> types;
  for (const Node* node : graph.topological_order()) types.push_back(node->op_type());
  return types;
}

std::vector<double> constant_values(const Graph& graph, const std::string& name) {
  const Value* value = graph.find_value(name);
  EXPECT_NE(value, nullptr) << name;
  if (value == nullptr || value->constant() == nullptr) return {};
  return value->constant()->to_doubles();
}

/// The only node of `op_type`; fails the test when there is not exactly one.
const Node& only_node(const Graph& graph, const std::string& op_type) {
  const Node* found = nullptr;
  for (const Node* node : graph.nodes()) {
    if (node->op_type() != op_type) continue;
    EXPECT_EQ(found, nullptr) << "several " << op_type << " nodes";
    found = node;
  }
  if (found == nullptr) throw std::runtime_error("no " + op_type + " node");
  return *found;
}

/// x[N,3,4,4] -> Conv(w, b, pads 1) -> Relu -> y, with named nodes.
ModelBuilder conv_relu_model() {
  ModelBuilder m(13);
  m.input("x", {"N", 3, 4, 4}).output("y", {"N", 2, 4, 4});
  std::vector<float> w(2 * 3 * 3 * 3);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i) * 0.5f - 3.0f;
  m.floats("w", {2, 3, 3, 3}, w).floats("b", {2}, {0.25f, -0.75f});
  set_attr(m.node("Conv", {"x", "w", "b"}, {"conv_out"}, "conv1"), "pads", Ints{1, 1, 1, 1});
  m.node("Relu", {"conv_out"}, {"y"}, "relu1");
  return m;
}

TEST(OnnxImport, KeepsNamesConstantsAndDynamicBatch) {
  TempDir dir;
  const Graph graph = load(conv_relu_model(), dir);
  ASSERT_EQ(graph.inputs().size(), 1u);
  EXPECT_EQ(graph.inputs()[0]->name(), "x");
  EXPECT_EQ(graph.inputs()[0]->shape(), (Shape{Shape::dynamic, 3, 4, 4}));
  EXPECT_EQ(graph.inputs()[0]->dtype(), DataType::Float32);
  ASSERT_EQ(graph.outputs().size(), 1u);
  EXPECT_EQ(graph.outputs()[0]->name(), "y");
  EXPECT_EQ(graph.outputs()[0]->shape(), (Shape{Shape::dynamic, 2, 4, 4}));
  EXPECT_EQ(op_types(graph), (std::vector<std::string>{"Conv", "Relu"}));
  ASSERT_NE(graph.find_node("conv1"), nullptr);
  EXPECT_EQ(graph.find_node("conv1")->attrs().get<Ints>("pads"), (Ints{1, 1, 1, 1}));
  EXPECT_NE(graph.find_node("relu1"), nullptr);
  const Value& w = graph.value("w");
  ASSERT_NE(w.constant(), nullptr);
  EXPECT_EQ(w.constant()->shape(), (Shape{2, 3, 3, 3}));
  EXPECT_DOUBLE_EQ(w.constant()->to_doubles()[5], 5 * 0.5 - 3.0);
  EXPECT_EQ(constant_values(graph, "b"), (std::vector<double>{0.25, -0.75}));
  EXPECT_EQ(graph.value("conv_out").shape(), (Shape{Shape::dynamic, 2, 4, 4}));
}

TEST(OnnxImport, InitializerListedAsInputIsOnlyAConstant) {
  ModelBuilder m = conv_relu_model();
  // IR < 4 style: the weights are graph inputs too (with defaults).
  m.input("w", {2, 3, 3, 3}).input("b", {2});
  TempDir dir;
  const Graph graph = load(m, dir);
  ASSERT_EQ(graph.inputs().size(), 1u);
  EXPECT_EQ(graph.inputs()[0]->name(), "x");
  EXPECT_NE(graph.value("w").constant(), nullptr);
}

TEST(OnnxImport, ReadsTypedFieldInitializers) {
  ModelBuilder m(13);
  m.input("x", {2, 6}).output("y", {3, 4});
  m.int64s("shape", {2}, {3, 4}); // int64_data, not raw_data
  onnx::TensorProto& d = *m.proto().mutable_graph()->add_initializer();
  d.set_name("d");
  d.set_data_type(onnx::TensorProto::DOUBLE);
  d.add_dims(2);
  d.add_double_data(1.5);
  d.add_double_data(-2.0);
  onnx::TensorProto& q = *m.proto().mutable_graph()->add_initializer();
  q.set_name("q");
  q.set_data_type(onnx::TensorProto::INT8);
  q.add_dims(3);
  for (int v : {-128, 0, 127}) q.add_int32_data(v);
  m.node("Reshape", {"x", "shape"}, {"y"});
  TempDir dir;
  const Graph graph = load(m, dir);
  EXPECT_EQ(constant_values(graph, "shape"), (std::vector<double>{3, 4}));
  EXPECT_EQ(graph.value("shape").dtype(), DataType::Int64);
  EXPECT_EQ(constant_values(graph, "d"), (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(graph.value("d").dtype(), DataType::Float64);
  EXPECT_EQ(constant_values(graph, "q"), (std::vector<double>{-128, 0, 127}));
  EXPECT_EQ(graph.value("q").dtype(), DataType::Int8);
  EXPECT_EQ(graph.value("y").shape(), (Shape{3, 4}));
}

TEST(OnnxImport, CastTargetBecomesTernDtypeName) {
  ModelBuilder m(13);
  m.input("x", {2}).output("y", {2}, onnx::TensorProto::INT8);
  set_attr(m.node("Cast", {"x"}, {"y"}, "cast"), "to", std::int64_t{onnx::TensorProto::INT8});
  TempDir dir;
  const Graph graph = load(m, dir);
  EXPECT_EQ(graph.find_node("cast")->attrs().get<std::string>("to"), "int8");
  EXPECT_EQ(graph.value("y").dtype(), DataType::Int8);
}

TEST(OnnxImport, ClipOpset6AttributesBecomeTheOpset13Inputs) {
  TempDir dir;
  ModelBuilder old(10); // Clip-6: min/max attributes
  old.input("x", {"N", 4}).output("y", {"N", 4});
  onnx::NodeProto& clip = old.node("Clip", {"x"}, {"y"}, "clip");
  set_attr(clip, "min", 0.0f);
  set_attr(clip, "max", 6.0f);
  const Graph from_attrs = load(old, dir, "clip6.onnx");

  ModelBuilder now(13); // Clip-13: min/max inputs
  now.input("x", {"N", 4}).output("y", {"N", 4});
  now.floats("lo", {}, {0.0f}).floats("hi", {}, {6.0f});
  now.node("Clip", {"x", "lo", "hi"}, {"y"}, "clip");
  const Graph from_inputs = load(now, dir, "clip13.onnx");

  for (const Graph* graph : {&from_attrs, &from_inputs}) {
    const Node& node = *graph->find_node("clip");
    EXPECT_TRUE(node.attrs().empty());
    ASSERT_EQ(node.inputs().size(), 3u);
    ASSERT_NE(node.input(1)->constant(), nullptr);
    EXPECT_EQ(node.input(1)->constant()->dtype(), DataType::Float32);
    EXPECT_EQ(node.input(1)->constant()->to_doubles(), std::vector<double>{0.0});
    EXPECT_EQ(node.input(2)->constant()->to_doubles(), std::vector<double>{6.0});
    EXPECT_EQ(graph->value("y").shape(), (Shape{Shape::dynamic, 4}));
  }
}

TEST(OnnxImport, ClipOpset6WithMaxOnlyLeavesMinAbsent) {
  ModelBuilder m(8);
  m.input("x", {4}).output("y", {4});
  set_attr(m.node("Clip", {"x"}, {"y"}, "clip"), "max", 1.0f);
  TempDir dir;
  const Graph graph = load(m, dir);
  const Node& node = *graph.find_node("clip");
  ASSERT_EQ(node.inputs().size(), 3u);
  EXPECT_EQ(node.input(1), nullptr);
  EXPECT_EQ(node.input(2)->constant()->to_doubles(), std::vector<double>{1.0});
}

TEST(OnnxImport, SqueezeOpset11AxesAttributeBecomesTheOpset13Input) {
  if (find_schema("Squeeze") == nullptr) GTEST_SKIP() << "Tern has no Squeeze schema yet";
  TempDir dir;
  ModelBuilder old(11);
  old.input("x", {"N", 1, 5}).output("y", {"N", 5});
  set_attr(old.node("Squeeze", {"x"}, {"y"}, "squeeze"), "axes", Ints{1});
  const Graph from_attr = load(old, dir, "squeeze11.onnx");

  ModelBuilder now(13);
  now.input("x", {"N", 1, 5}).output("y", {"N", 5});
  now.int64s("axes", {1}, {1});
  now.node("Squeeze", {"x", "axes"}, {"y"}, "squeeze");
  const Graph from_input = load(now, dir, "squeeze13.onnx");

  for (const Graph* graph : {&from_attr, &from_input}) {
    const Node& node = *graph->find_node("squeeze");
    EXPECT_FALSE(node.attrs().has("axes"));
    ASSERT_EQ(node.inputs().size(), 2u);
    ASSERT_NE(node.input(1)->constant(), nullptr);
    EXPECT_EQ(node.input(1)->constant()->dtype(), DataType::Int64);
    EXPECT_EQ(node.input(1)->constant()->to_int64s(), Ints{1});
    EXPECT_EQ(graph->value("y").shape(), (Shape{Shape::dynamic, 5}));
  }
}

TEST(OnnxImport, Softmax11OnAMiddleAxisIsExpressedExactly) {
  // Softmax-11 on axis 1 of [N, 3, 4] normalises over the 12 values of each row of the
  // coerced [N, 12] matrix, not over the 3 values of axis 1 (Softmax-13's meaning).
  ModelBuilder m(11);
  m.input("x", {"N", 3, 4}).output("y", {"N", 3, 4});
  set_attr(m.node("Softmax", {"x"}, {"y"}, "softmax"), "axis", std::int64_t{1});
  TempDir dir;
  const Graph graph = load(m, dir);
  EXPECT_EQ(op_types(graph), (std::vector<std::string>{"Flatten", "Softmax", "Reshape"}));
  const Node& flatten = only_node(graph, "Flatten");
  EXPECT_EQ(flatten.input(0)->name(), "x");
  EXPECT_EQ(flatten.attrs().get<std::int64_t>("axis"), 1);
  const Node& softmax = *graph.find_node("softmax");
  EXPECT_EQ(softmax.attrs().get<std::int64_t>("axis"), 1);
  EXPECT_EQ(softmax.input(0)->shape(), (Shape{Shape::dynamic, 12}));
  const Node& reshape = only_node(graph, "Reshape");
  EXPECT_EQ(reshape.output()->name(), "y");
  ASSERT_NE(reshape.input(1)->constant(), nullptr);
  EXPECT_EQ(reshape.input(1)->constant()->to_int64s(), (Ints{0, 3, 4})); // 0 copies N
  EXPECT_EQ(graph.value("y").shape(), (Shape{Shape::dynamic, 3, 4}));
}

TEST(OnnxImport, Softmax11OnTheLastAxisStaysOneNode) {
  ModelBuilder m(11);
  m.input("x", {"N", 3, 4}).output("y", {"N", 3, 4});
  set_attr(m.node("Softmax", {"x"}, {"y"}, "softmax"), "axis", std::int64_t{-1});
  TempDir dir;
  const Graph graph = load(m, dir);
  EXPECT_EQ(op_types(graph), (std::vector<std::string>{"Softmax"}));
  EXPECT_EQ(graph.find_node("softmax")->attrs().get<std::int64_t>("axis"), 2);
}

TEST(OnnxImport, Softmax11DefaultAxisIsOneNotTheLast) {
  ModelBuilder m(11);
  m.input("x", {2, 3, 4}).output("y", {2, 3, 4});
  m.node("Softmax", {"x"}, {"y"}, "softmax"); // opset < 13 default axis: 1
  TempDir dir;
  const Graph graph = load(m, dir);
  EXPECT_EQ(op_types(graph), (std::vector<std::string>{"Flatten", "Softmax", "Reshape"}));
  EXPECT_EQ(only_node(graph, "Reshape").input(1)->constant()->to_int64s(), (Ints{2, 3, 4}));
}

TEST(OnnxImport, Softmax11OnAnInputOfUnknownRankReshapesBackToItsShape) {
  // ONNX infers no rank for a Reshape to a target fed at run time (PaddlePaddle's exports
  // hit this); Tern's inference knows it from the target's length, so the coerced form is
  // written without the rank and reshaped back to Shape(input).
  ModelBuilder m(11);
  m.input("x", {"N", 3, 4}).input("target", {3}, onnx::TensorProto::INT64).output("y", {"A", "B", "C"});
  m.node("Reshape", {"x", "target"}, {"e"}, "reshape");
  set_attr(m.node("Softmax", {"e"}, {"y"}, "softmax"), "axis", std::int64_t{1});
  TempDir dir;
  const Graph graph = load(m, dir);
  std::vector<std::string> types = op_types(graph);
  std::sort(types.begin(), types.end()); // Shape's place in the order is free
  EXPECT_EQ(types, (std::vector<std::string>{"Flatten", "Reshape", "Reshape", "Shape", "Softmax"}));
  EXPECT_EQ(only_node(graph, "Flatten").attrs().get<std::int64_t>("axis"), 1);
  // Run: [2, 3, 4] reshaped to [2, 2, 6]; each of the 2 rows of 12 values sums to 1.
  SequentialScheduler scheduler(graph, {"cpu"});
  std::vector<float> values(24);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 5) * 0.5f;
  const Tensor y = scheduler
                       .forward({Tensor::from(Shape{2, 3, 4}, DataType::Float32, values),
                                 Tensor::from(Shape{3}, DataType::Int64, Ints{2, 2, 6})})
                       .at(0);
  ASSERT_EQ(y.shape(), (Shape{2, 2, 6}));
  for (std::size_t row = 0; row < 2; ++row) {
    double sum = 0, denominator = 0;
    for (std::size_t i = 0; i < 12; ++i) denominator += std::exp(static_cast<double>(values[row * 12 + i]));
    for (std::size_t i = 0; i < 12; ++i) {
      sum += y.data<float>()[row * 12 + i];
      EXPECT_NEAR(y.data<float>()[row * 12 + i], std::exp(static_cast<double>(values[row * 12 + i])) / denominator,
                  1e-6);
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

// Tern keeps libonnx's shape inference away from a Conv whose weights it cannot see before
// inference (libonnx would read past the end of a shape list for inconsistent ranks); a
// second inference run, knowing the computed weights' shape, still infers what follows.
TEST(OnnxImport, RanksAfterAConvWithComputedWeightsAreStillKnown) {
  ModelBuilder m(11);
  m.input("x", {"N", 1, 4, 4}).output("y", {"N", 2, 2, 2});
  m.floats("w", {2, 1, 3, 3}, std::vector<float>(18, 0.5f));
  m.node("Relu", {"w"}, {"computed_w"}, "relu");
  m.node("Conv", {"x", "computed_w"}, {"c"}, "conv");
  m.node("Softmax", {"c"}, {"y"}, "softmax"); // needs the rank of 'c' (axis 1 of 4)
  TempDir dir;
  const Graph graph = load(m, dir);
  EXPECT_EQ(op_types(graph), (std::vector<std::string>{"Relu", "Conv", "Flatten", "Softmax", "Reshape"}));
  EXPECT_EQ(only_node(graph, "Reshape").input(1)->constant()->to_int64s(), (Ints{0, 2, 2, 2}));
}

TEST(OnnxImport, ConstantNodesBecomeGraphConstants) {
  ModelBuilder m(13);
  m.input("x", {2, 3}).output("y", {2, 3}).output("z", {3});
  set_attr(m.node("Constant", {}, {"bias"}), "value", float_tensor("", {3}, {1.0f, 2.0f, 3.0f}));
  set_attr(m.node("Constant", {}, {"scale"}), "value_float", 0.5f);
  set_attr(m.node("Constant", {}, {"ints"}), "value_ints", Ints{7, 8, 9});
  m.node("Add", {"x", "bias"}, {"sum"});
  m.node("Mul", {"sum", "scale"}, {"y"});
  set_attr(m.node("Cast", {"ints"}, {"z"}), "to", std::int64_t{onnx::TensorProto::FLOAT});
  TempDir dir;
  const Graph graph = load(m, dir);
  std::vector<std::string> types = op_types(graph);
  std::sort(types.begin(), types.end());
  EXPECT_EQ(types, (std::vector<std::string>{"Add", "Cast", "Mul"})); // no Constant node
  EXPECT_EQ(constant_values(graph, "bias"), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(graph.value("scale").constant()->shape(), Shape{});
  EXPECT_EQ(graph.value("scale").dtype(), DataType::Float32);
  EXPECT_EQ(constant_values(graph, "scale"), std::vector<double>{0.5});
  EXPECT_EQ(graph.value("ints").dtype(), DataType::Int64);
  EXPECT_EQ(constant_values(graph, "ints"), (std::vector<double>{7, 8, 9}));
}

TEST(OnnxImport, IdentityOfAnInitializerIsAConstantOfItsOwn) {
  // PyTorch's export of two Convs with equal weights: the second reads them through Identity.
  ModelBuilder m = conv_relu_model();
  m.output("y2", {"N", 2, 4, 4});
  m.node("Identity", {"w"}, {"w_copy"}, "dedup");
  m.node("Conv", {"x", "w_copy", "b"}, {"y2"}, "conv2");
  TempDir dir;
  const Graph graph = load(m, dir);
  EXPECT_EQ(graph.find_node("dedup"), nullptr);
  const Value& copy = graph.value("w_copy");
  ASSERT_NE(copy.constant(), nullptr);
  EXPECT_EQ(copy.constant()->to_doubles(), constant_values(graph, "w"));
  EXPECT_NE(copy.constant()->raw(), graph.value("w").constant()->raw()); // its own storage
  // An Identity of a computed value stays a node.
  ModelBuilder n(13);
  n.input("x", {2}).output("y", {2});
  n.node("Identity", {"x"}, {"y"}, "id");
  EXPECT_EQ(op_types(load(n, dir, "computed.onnx")), std::vector<std::string>{"Identity"});
}

TEST(OnnxImport, OldAttributesBecomeInputs) {
  // Pad-2 (pads/value attributes) and Dropout-10 (ratio attribute) in one opset-10 model.
  ModelBuilder m(10);
  m.input("x", {1, 2}).output("y", {1, 5});
  onnx::NodeProto& pad = m.node("Pad", {"x"}, {"padded"}, "pad");
  set_attr(pad, "pads", Ints{0, 1, 0, 2});
  set_attr(pad, "value", 1.5f);
  set_attr(m.node("Dropout", {"padded"}, {"y"}, "dropout"), "ratio", 0.25f);
  TempDir dir;
  const Graph graph = load(m, dir);
  const Node& p = *graph.find_node("pad");
  EXPECT_FALSE(p.attrs().has("pads"));
  EXPECT_EQ(p.input(1)->constant()->to_int64s(), (Ints{0, 1, 0, 2}));
  EXPECT_EQ(p.input(2)->constant()->to_doubles(), std::vector<double>{1.5});
  const Node& d = *graph.find_node("dropout");
  EXPECT_FALSE(d.attrs().has("ratio"));
  EXPECT_EQ(d.input(1)->constant()->to_doubles(), std::vector<double>{0.25});
  EXPECT_EQ(graph.value("y").shape(), (Shape{1, 5}));
}

TEST(OnnxImport, DefaultValuedUnmodelledAttributeIsDropped) {
  // BatchNormalization-7 has `spatial` (default 1), which Tern's schema does not model.
  ModelBuilder m(7);
  m.input("x", {"N", 2, 3}).output("y", {"N", 2, 3});
  for (const char* name : {"s", "b", "mean", "var"}) m.floats(name, {2}, {1.0f, 0.5f});
  set_attr(m.node("BatchNormalization", {"x", "s", "b", "mean", "var"}, {"y"}, "bn"), "spatial", std::int64_t{1});
  TempDir dir;
  const Graph graph = load(m, dir);
  EXPECT_FALSE(graph.find_node("bn")->attrs().has("spatial"));
}

TEST(OnnxImport, ExternalDataIsReadRelativeToTheModel) {
  TempDir dir;
  std::filesystem::create_directory(dir / "weights");
  const std::vector<float> values{1.0f, -2.0f, 3.5f, 4.0f};
  std::string bytes(8, 'x'); // an offset to honour
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  write_bytes(dir / "weights" / "w.bin", bytes);

  ModelBuilder m(13);
  m.input("x", {"N", 4}).output("y", {"N", 4});
  onnx::TensorProto& w = *m.proto().mutable_graph()->add_initializer();
  w.set_name("w");
  w.set_data_type(onnx::TensorProto::FLOAT);
  w.add_dims(4);
  w.set_data_location(onnx::TensorProto::EXTERNAL);
  for (const auto& [key, value] :
       {std::pair{"location", "weights/w.bin"}, std::pair{"offset", "8"}, std::pair{"length", "16"}}) {
    onnx::StringStringEntryProto& entry = *w.add_external_data();
    entry.set_key(key);
    entry.set_value(value);
  }
  m.node("Add", {"x", "w"}, {"y"});
  const std::filesystem::path path = m.save(dir / "model.onnx");
  const std::string before = read_bytes(path);
  const std::string data_before = read_bytes(dir / "weights" / "w.bin");
  const auto time_before = std::filesystem::last_write_time(path);

  const Graph graph = load_model(path);
  EXPECT_EQ(constant_values(graph, "w"), (std::vector<double>{1.0, -2.0, 3.5, 4.0}));
  // Loading never touches the files.
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(read_bytes(dir / "weights" / "w.bin"), data_before);
  EXPECT_EQ(std::filesystem::last_write_time(path), time_before);
}

TEST(OnnxImport, LoadingLeavesTheFileUnchanged) {
  TempDir dir;
  const std::filesystem::path path = conv_relu_model().save(dir / "model.onnx");
  const std::string before = read_bytes(path);
  ASSERT_FALSE(before.empty());
  (void)load_model(path);
  (void)load_model(path);
  EXPECT_EQ(read_bytes(path), before);
}

TEST(OnnxImport, UpsampleBecomesResize) {
  if (find_schema("Resize") == nullptr) GTEST_SKIP() << "Tern has no Resize schema yet";
  ModelBuilder m(9);
  m.input("x", {1, 1, 2, 2}).output("y", {1, 1, 4, 4});
  m.floats("scales", {4}, {1.0f, 1.0f, 2.0f, 2.0f});
  m.node("Upsample", {"x", "scales"}, {"y"}, "up");
  TempDir dir;
  const Graph graph = load(m, dir);
  const Node& node = *graph.find_node("up");
  EXPECT_EQ(node.op_type(), "Resize");
  ASSERT_EQ(node.inputs().size(), 3u);
  EXPECT_EQ(node.input(1), nullptr);
  EXPECT_EQ(node.input(2)->name(), "scales");
  EXPECT_EQ(node.attrs().get<std::string>("coordinate_transformation_mode"), "asymmetric");
  EXPECT_EQ(node.attrs().get<std::string>("nearest_mode"), "floor");
}

} // namespace
} // namespace tern::onnx_test
