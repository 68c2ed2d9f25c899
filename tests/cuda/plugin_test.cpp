// The plugin itself: what `tern plugins` shows, how an unusable backend fails, and the
// device allocator and copies where a GPU exists.
#include "cuda_testing.hpp"

#include <tern/ptq.hpp>
#include <tern/registry.hpp>

namespace tern::test {
namespace {

TEST(CudaPlugin, IsListedWithTheProbesAnswer) {
  const PluginInfo* info = cuda_plugin();
  ASSERT_NE(info, nullptr) << "this build has the cuda plugin, discovery must find it";
  EXPECT_EQ(info->kind, "backend");
  if (info->usable) {
    EXPECT_TRUE(info->reason.empty());
    return;
  }
  // No driver or no device: the runtime's own error (e.g. cudaErrorInsufficientDriver), or
  // no device at all, or no code for the device.
  const bool explained = info->reason.find("cudaGetDeviceCount failed: cudaError") != std::string::npos ||
                         info->reason == "no CUDA device" ||
                         info->reason.find("CMAKE_CUDA_ARCHITECTURES") != std::string::npos;
  EXPECT_TRUE(explained) << info->reason;
}

TEST(CudaPlugin, AnUnusableBackendFailsByNameWithTheReason) {
  const std::string reason = cuda_unusable_reason();
  if (reason.empty()) GTEST_SKIP() << "cuda is usable here: this checks machines without a GPU";
  try {
    backend("cuda");
    FAIL() << "loading an unusable plugin must throw";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(reason), std::string::npos) << error.what();
  }
}

TEST(CudaPlugin, UseCudaWithoutADeviceSaysWhy) {
  const std::string reason = cuda_unusable_reason();
  if (reason.empty()) GTEST_SKIP() << "cuda is usable here: this checks machines without a GPU";
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 4});
  graph.add_node("Relu", {"x"}, {"y"});
  graph.add_output("y");
  ptq::auto_assign_node_precision(graph, DataType::Int8, DataType::Int8, DataType::Int32);
  ptq::QuantizeOptions options;
  options.use_cuda = true;
  try {
    ptq::quantize_network(graph, std::vector<Tensor>{random_tensor({2, 4}, 1)}, options);
    FAIL() << "use_cuda without a usable cuda backend must throw";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("use_cuda: "), std::string::npos) << message;
    EXPECT_NE(message.find(reason), std::string::npos) << message;
  }
}

TEST(CudaBackend, AllocatesZeroedDeviceMemoryAndCopiesBothWays) {
  TERN_REQUIRE_CUDA();
  Backend& cuda = backend("cuda");
  EXPECT_FALSE(cuda.host_accessible());
  const Tensor zeros = Tensor(Shape{1001}, DataType::Float32, cuda).to(host_backend());
  EXPECT_EQ(values<float>(zeros), std::vector<float>(1001, 0.0f));
  const Tensor data = random_tensor({3, 517}, 9);
  const Tensor back = data.to(cuda).clone().to(host_backend()); // host -> device -> device -> host
  EXPECT_EQ(values<float>(back), values<float>(data));
}

TEST(CudaBackend, ErrorsNameTheCudaError) {
  TERN_REQUIRE_CUDA();
  try {
    backend("cuda").allocate(std::size_t{1} << 60);
    FAIL() << "an exabyte cannot be allocated";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("cudaErrorMemoryAllocation"), std::string::npos) << error.what();
  }
}

} // namespace
} // namespace tern::test
