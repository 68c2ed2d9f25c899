// quantize_network with use_cuda (ranges, histograms and clipping searches on "cuda") makes
// the same quantized network as without it, for every clipping mode that uses the GPU.
#include "cuda_testing.hpp"

#include <tern/ptq.hpp>

namespace tern::test {
namespace {

Graph small_net() {
  Graph graph;
  graph.add_input("x", DataType::Float32, Shape{Shape::dynamic, 3, 8, 8});
  graph.add_constant("w1", random_tensor({8, 3, 3, 3}, 41));
  graph.add_constant("b1", random_tensor({8}, 42, -0.1f, 0.1f));
  graph.add_constant("w2", random_tensor({10, 288}, 43));
  graph.add_constant("b2", random_tensor({10}, 44, -0.1f, 0.1f));
  graph.add_node("Conv", {"x", "w1", "b1"}, {"c"}, {}, "conv");
  graph.add_node("Relu", {"c"}, {"r"});
  graph.add_node("Flatten", {"r"}, {"f"});
  Attributes gemm;
  gemm.set("transB", std::int64_t{1});
  graph.add_node("Gemm", {"f", "w2", "b2"}, {"y"}, gemm, "fc");
  graph.add_output("y");
  graph.infer_shapes();
  return graph;
}

Tensor quantized_output(ptq::Clipping clipping, bool use_cuda, const Tensor& images) {
  Graph graph = small_net();
  ptq::auto_assign_node_precision(graph, DataType::Int8, DataType::Int8, DataType::Int32);
  ptq::QuantizeOptions options;
  options.clipping_mode = clipping;
  options.use_cuda = use_cuda;
  ptq::quantize_network(graph, std::vector<Tensor>{images, random_tensor({16, 3, 8, 8}, 46, 0.0f, 1.0f)}, options);
  return SequentialScheduler(graph, {"cpu"}).forward({ptq::scale_input(graph, images)})[0];
}

TEST(CudaPtq, UseCudaQuantizesExactlyAsTheCpu) {
  TERN_REQUIRE_CUDA();
  const Tensor images = random_tensor({16, 3, 8, 8}, 45, 0.0f, 1.0f);
  for (const ptq::Clipping clipping : {ptq::Clipping::Max, ptq::Clipping::MSE, ptq::Clipping::AA, ptq::Clipping::KL}) {
    const Tensor cpu = quantized_output(clipping, false, images);
    const Tensor cuda = quantized_output(clipping, true, images);
    EXPECT_EQ(values<float>(cuda), values<float>(cpu)) << ptq::name(clipping);
  }
}

} // namespace
} // namespace tern::test
