// embed_host: loads an ONNX model, compiles it for the backends named on the command line
// (a preference list such as "naive,cpu"), runs one batch of samples and prints the top-1
// class of each. What a host application does with Tern, and nothing more.
#include <tern/tern.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace {

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> names;
  std::stringstream stream(list);
  for (std::string name; std::getline(stream, name, ',');) names.push_back(name);
  return names;
}

int run(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: embed_host MODEL.onnx BACKEND[,BACKEND...] SAMPLES.npy[.gz]|fashion-mnist [COUNT]\n";
    return 2;
  }
  const std::size_t count = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 8;

  std::cout << "backends:";
  for (const tern::BackendInfo& backend : tern::Runtime::available_backends())
    std::cout << " " << backend.name << (backend.usable ? "" : " (unusable)");
  std::cout << "\n";

  tern::Runtime runtime(std::filesystem::path(argv[1]), split(argv[2]));
  for (const tern::Placement& node : runtime.placements())
    std::cout << "node " << node.node << " (" << node.op_type << ") on " << node.backend << "\n";

  const tern::Dataset samples = tern::open_dataset(argv[3], "test").first(count);
  const tern::Tensor logits = runtime.run({samples.batch(0, count)})[0];

  const std::int64_t rows = logits.shape()[0], classes = logits.numel() / rows;
  std::cout << "top-1:";
  for (std::int64_t row = 0; row < rows; ++row) {
    const float* begin = logits.data<float>() + row * classes;
    std::cout << " " << std::max_element(begin, begin + classes) - begin;
  }
  std::cout << "\n";
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const tern::Error& e) { // every Tern failure says what and where
    std::cerr << "embed_host: " << e.what() << "\n";
    return 1;
  }
}
