#include <tern/scheduler.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <span>

#include "graphs.hpp"
#include "reference_backend.hpp"

using tern::DataType;
using tern::Graph;
using tern::SequentialScheduler;
using tern::Shape;
using tern::Tensor;

class Scheduler : public ::testing::Test {
protected:
  void SetUp() override {
    tern::test::register_reference_backend();
    tern::test::register_relu_only_backend();
    tern::test::kernel_runs().clear();
  }
};

TEST_F(Scheduler, ChainOfTwentyEqualLayersReusesBuffers) {
  const Graph graph = tern::test::relu_chain(20, 256);
  SequentialScheduler scheduler(graph, {"reference"});
  EXPECT_EQ(scheduler.plan().size(), 20u);
  // 19 intermediate values alternate between two buffers; the output is the caller's.
  EXPECT_LT(scheduler.buffer_count(), 20u);
  EXPECT_EQ(scheduler.buffer_count(), 2u);
  (void)scheduler.forward({tern::test::random_tensor(Shape{8, 256}, 1)});
  EXPECT_EQ(scheduler.buffer_bytes(), 2u * 8 * 256 * sizeof(float));
}

TEST_F(Scheduler, ForwardMatchesANaiveLoopForAnyBatchSize) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 3});
  graph.add_constant("w", Tensor::from_floats(Shape{3}, {1.f, -2.f, 0.5f}));
  graph.add_node("Mul", {"x", "w"}, {"m"});
  graph.add_node("Relu", {"m"}, {"r"});
  graph.add_node("Add", {"r", "x"}, {"y"});
  graph.add_output("y");
  SequentialScheduler scheduler(graph, {"reference"});
  // Repeated batches run on the tensors the scheduler kept from the last run; new ones
  // re-infer, grow or reuse the buffers.
  std::uint32_t seed = 0;
  for (std::int64_t batch : {1, 4, 4, 2, 2, 4, 1, 1}) {
    const Tensor x = tern::test::random_tensor(Shape{batch, 3}, ++seed);
    const Tensor y = scheduler.forward({x})[0];
    ASSERT_EQ(y.shape(), (Shape{batch, 3}));
    const float weights[3] = {1.f, -2.f, 0.5f};
    for (std::int64_t i = 0; i < batch * 3; ++i) {
      const float v = x.data<float>()[i];
      EXPECT_FLOAT_EQ(y.data<float>()[i], std::max(0.f, v * weights[i % 3]) + v);
    }
  }
}

TEST_F(Scheduler, OutputsSurviveLaterForwards) {
  const Graph graph = tern::test::relu_chain(3, 4);
  SequentialScheduler scheduler(graph, {"reference"});
  const Tensor first = scheduler.forward({Tensor::from_floats(Shape{1, 4}, {1, 2, 3, 4})})[0];
  const Tensor second = scheduler.forward({Tensor::from_floats(Shape{1, 4}, {5, 6, 7, 8})})[0];
  EXPECT_EQ(first.to_doubles(), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(second.to_doubles(), (std::vector<double>{5, 6, 7, 8}));
}

TEST_F(Scheduler, KeepsNoTensorOfTheCallerAfterForward) {
  const Graph graph = tern::test::relu_chain(3, 4);
  SequentialScheduler scheduler(graph, {"reference"});
  for (int run = 0; run < 2; ++run) { // the first run allocates the buffers, the second reuses them
    const std::shared_ptr<std::byte> storage(new std::byte[4 * sizeof(float)], std::default_delete<std::byte[]>());
    const std::weak_ptr<std::byte> input_storage = storage;
    {
      Tensor x(Shape{1, 4}, DataType::Float32, storage, tern::host_backend());
      std::ranges::fill(std::span(x.data<float>(), 4), 2.f);
      EXPECT_EQ(scheduler.forward({x})[0].to_doubles(), (std::vector<double>{2, 2, 2, 2}));
    }
    EXPECT_EQ(input_storage.use_count(), 1) << "run " << run << ": only the test holds the input's storage";
  }
}

TEST_F(Scheduler, ObserversSeeChosenValuesDuringForward) {
  const Graph graph = tern::test::relu_chain(2, 3);
  SequentialScheduler scheduler(graph, {"reference"});
  std::vector<double> seen_max;
  scheduler.observe("h0", [&](const tern::Value& value, const Tensor& tensor) {
    EXPECT_EQ(value.name(), "h0");
    const auto values = tensor.to_doubles();
    seen_max.push_back(*std::max_element(values.begin(), values.end()));
  });
  int input_calls = 0;
  scheduler.observe("x", [&](const tern::Value&, const Tensor&) { ++input_calls; });
  scheduler.forward({Tensor::from_floats(Shape{1, 3}, {-1, 5, 2})});
  scheduler.forward({Tensor::from_floats(Shape{2, 3}, {-1, 1, 2, 9, 0, 0})});
  EXPECT_EQ(seen_max, (std::vector<double>{5, 9}));
  EXPECT_EQ(input_calls, 2);
  EXPECT_THROW(scheduler.observe("nope", [](const tern::Value&, const Tensor&) {}), tern::Error);
  scheduler.clear_observers();
  scheduler.forward({Tensor::from_floats(Shape{1, 3}, {7, 7, 7})});
  EXPECT_EQ(seen_max.size(), 2u);
}

TEST_F(Scheduler, MissingKernelNamesNodeOpTypesAndBackends) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 4});
  graph.add_node("Softmax", {"x"}, {"y"}, {}, "probabilities");
  graph.add_output("y");
  try {
    SequentialScheduler scheduler(graph, {"reluonly", "reference"});
    FAIL() << "compiling a graph no backend can run must throw";
  } catch (const tern::Error& e) {
    const std::string message = e.what();
    for (const char* part : {"node 'probabilities' (Softmax)", "(float32)", "reluonly, reference"})
      EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

TEST_F(Scheduler, PreferenceListMixesBackendsPerNode) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 2});
  graph.add_node("Relu", {"x"}, {"r"});
  graph.add_node("Add", {"r", "x"}, {"y"});
  graph.add_output("y");
  SequentialScheduler scheduler(graph, {"reluonly", "reference"});
  EXPECT_EQ(scheduler.plan()[0].backend, "reluonly");
  EXPECT_EQ(scheduler.plan()[1].backend, "reference");
  const Tensor y = scheduler.forward({Tensor::from_floats(Shape{1, 2}, {-3, 4})})[0];
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{-3, 8}));
  EXPECT_EQ(tern::test::kernel_runs()["reluonly"], 1);
  EXPECT_EQ(tern::test::kernel_runs()["reference"], 1);
}

TEST_F(Scheduler, RejectsInputsOfTheWrongTypeShapeOrCount) {
  const Graph graph = tern::test::relu_chain(1, 4);
  SequentialScheduler scheduler(graph, {"reference"});
  EXPECT_THROW(scheduler.forward({}), tern::Error);
  EXPECT_THROW(scheduler.forward({Tensor(Shape{1, 5}, DataType::Float32)}), tern::Error);
  try {
    scheduler.forward({Tensor(Shape{1, 4}, DataType::Int8)});
    FAIL() << "an int8 input for a float32 graph input must throw";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find("graph input 'x' must be float32, got int8"), std::string::npos) << e.what();
  }
}

TEST_F(Scheduler, UnknownBackendIsAClearError) {
  const Graph graph = tern::test::relu_chain(1, 4);
  try {
    SequentialScheduler scheduler(graph, {"no-such-backend-xyz"});
    FAIL() << "an unknown backend must throw";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no plugin named 'no-such-backend-xyz'"), std::string::npos) << e.what();
  }
}

TEST_F(Scheduler, GraphOutputThatIsAnInputIsCopied) {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{1, 2});
  graph.add_node("Relu", {"x"}, {"y"});
  graph.add_output("y");
  graph.add_output("x");
  SequentialScheduler scheduler(graph, {"reference"});
  const Tensor x = Tensor::from_floats(Shape{1, 2}, {-1, 1});
  const auto outputs = scheduler.forward({x});
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_NE(outputs[1].raw(), x.raw());
  EXPECT_EQ(outputs[1].to_doubles(), x.to_doubles());
}

TEST_F(Scheduler, ProfilingTimesEveryStepOfEveryPassOnlyWhileOn) {
  const Graph graph = tern::test::relu_chain(4, 4096);
  SequentialScheduler scheduler(graph, {"reference"});
  const Tensor x = tern::test::random_tensor(Shape{16, 4096}, 3);
  (void)scheduler.forward({x}); // not profiled
  for (const tern::StepProfile& step : scheduler.profile()) EXPECT_TRUE(step.seconds.empty());

  scheduler.set_profiling(true);
  const auto start = std::chrono::steady_clock::now();
  for (int pass = 0; pass < 3; ++pass) (void)scheduler.forward({x});
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  scheduler.set_profiling(false);
  (void)scheduler.forward({x}); // after profiling stopped: not recorded

  const std::vector<tern::StepProfile> profile = scheduler.profile();
  ASSERT_EQ(profile.size(), 4u);
  double timed = 0;
  for (std::size_t i = 0; i < profile.size(); ++i) {
    EXPECT_EQ(profile[i].step, &scheduler.plan()[i]);
    EXPECT_EQ(profile[i].step->node->op_type(), "Relu");
    EXPECT_FALSE(profile[i].fused_into_next);
    ASSERT_EQ(profile[i].seconds.size(), 3u) << "step " << i;
    for (const double seconds : profile[i].seconds) {
      EXPECT_GT(seconds, 0.0);
      timed += seconds;
    }
  }
  // The steps are parts of the passes: together never more than the passes took.
  EXPECT_LE(timed, wall);

  scheduler.set_profiling(true); // starting again clears the record
  for (const tern::StepProfile& step : scheduler.profile()) EXPECT_TRUE(step.seconds.empty());
}
