// The in-tree answer embed_host must reproduce from the install: top-1 classes of the first
// COUNT samples of an NPY file, computed with the core's C++ API directly (load_model and
// SequentialScheduler, no tern::Runtime), printed as embed_host prints them.
#include <tern/tern.hpp>

#include <algorithm>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: tern_reference_top1 MODEL.onnx BACKEND SAMPLES.npy[.gz] COUNT\n";
    return 2;
  }
  const tern::Graph graph = tern::load_model(argv[1]);
  tern::SequentialScheduler scheduler(graph, {argv[2]});
  const auto count = static_cast<std::int64_t>(std::stoll(argv[4]));
  const tern::Tensor samples = tern::read_npy(argv[3]); // float32 [N, 1, 28, 28], as the model takes
  const std::vector<float> first(samples.data<float>(), samples.data<float>() + count * 28 * 28);
  const tern::Tensor logits = scheduler.forward({tern::Tensor::from_floats({count, 1, 28, 28}, first)})[0];
  std::cout << "top-1:";
  for (std::int64_t row = 0; row < count; ++row) {
    const float* begin = logits.data<float>() + row * 10;
    std::cout << " " << std::max_element(begin, begin + 10) - begin;
  }
  std::cout << "\n";
}
