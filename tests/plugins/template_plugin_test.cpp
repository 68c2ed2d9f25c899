// The copy-me plugin, loaded by name from the build tree like any user plugin, checked
// against a plain loop.
#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include "graphs.hpp"

TEST(TemplatePlugin, IsFoundByNameAndUsable) {
  const tern::PluginInfo& info = tern::PluginHost::instance().load("template");
  EXPECT_TRUE(info.usable) << info.reason;
  EXPECT_EQ(info.kind, "backend");
  EXPECT_EQ(info.version, TERN_VERSION_STRING);
  EXPECT_EQ(tern::backend("Template").name(), "template");
}

TEST(TemplatePlugin, RunsAReluChainLikeAPlainLoop) {
  const tern::Graph graph = tern::test::relu_chain(5, 16);
  tern::SequentialScheduler scheduler(graph, {"template"});
  for (const auto& step : scheduler.plan()) EXPECT_EQ(step.backend, "template");
  const tern::Tensor x = tern::test::random_tensor(tern::Shape{3, 16}, 5);
  const tern::Tensor y = scheduler.forward({x})[0];
  for (std::int64_t i = 0; i < x.numel(); ++i) EXPECT_EQ(y.data<float>()[i], std::max(0.0f, x.data<float>()[i]));
}

TEST(TemplatePlugin, KernelChecksItsInputs) {
  (void)tern::backend("template");
  const tern::RegisteredKernel* relu = tern::find_kernel("template", "Relu", {tern::DataType::Float32});
  ASSERT_NE(relu, nullptr);
  EXPECT_NE(relu->owner.library, nullptr); // the plugin library stays loaded while its kernels live
  tern::Graph graph = tern::test::relu_chain(1, 4);
  auto kernel = relu->def.make(*graph.value("y").producer());
  std::vector<tern::Tensor> in{tern::Tensor(tern::Shape{1, 4}, tern::DataType::Float32)};
  std::vector<tern::Tensor> out{tern::Tensor(tern::Shape{1, 5}, tern::DataType::Float32)};
  EXPECT_THROW(kernel->run(in, out), tern::Error);
  EXPECT_EQ(tern::find_kernel("template", "Relu", {tern::DataType::Int8}), nullptr);
}
