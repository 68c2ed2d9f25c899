// Writes a small model with a 1-D convolution (x float32[N, 2, 16] -> Conv k=3 -> Relu ->
// y[N, 4, 14]) and an input for it (x.npy beside the model, N = 3) for the test that a backend declining a node hands
// it to the next backend: the example "naive" backend runs 2-D convolutions only.
#include <tern/tern.hpp>

#include <iostream>

int main(int argc, char** argv) try {
  if (argc != 2) {
    std::cerr << "usage: tern_conv1d_model OUT.onnx\n";
    return 2;
  }
  std::vector<float> weights(4 * 2 * 3);
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<float>(i % 7) * 0.25f - 0.75f;
  tern::Graph graph;
  graph.add_input("x", tern::DataType::Float32, tern::Shape{tern::Shape::dynamic, 2, 16});
  graph.add_constant("w", tern::Tensor::from_floats(tern::Shape{4, 2, 3}, weights));
  graph.add_constant("b", tern::Tensor::from_floats(tern::Shape{4}, {0.5f, -0.5f, 0.25f, 0.0f}));
  graph.add_node("Conv", {"x", "w", "b"}, {"c"}, {}, "conv1d");
  graph.add_node("Relu", {"c"}, {"y"}, {}, "relu");
  graph.add_output("y");
  tern::save_model(graph, argv[1]);
  std::vector<float> x(3 * 2 * 16);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 23) * 0.1f - 1.0f;
  tern::write_npy(tern::Tensor::from_floats(tern::Shape{3, 2, 16}, x),
                  std::filesystem::path(argv[1]).parent_path() / "x.npy");
} catch (const std::exception& e) {
  std::cerr << "tern_conv1d_model: " << e.what() << "\n";
  return 1;
}
