// Fuzz target: ONNX model files, through what `tern info` and `tern run` do with a model
// before any backend runs: tern::load_model (the "onnx" format plugin: protobuf parsing,
// the ONNX checker, external data, import of every node), shape inference, model_stats and
// prepare_for_inference. The plugin has no in-memory entry point, so the bytes go to a
// file "model.onnx" in a folder of its own (external data is looked up beside it and must
// never be read from outside it). Any input must load or be refused with tern::Error.
#include "fuzz_util.hpp"

#include <tern/error.hpp>
#include <tern/model_format.hpp>
#include <tern/model_stats.hpp>
#include <tern/runtime.hpp>

#include <cstdio>
#include <cstdlib>

// Loads the plugin before the first input: a plugin that cannot be found would turn every
// input into an (expected) tern::Error and the target would test nothing. Loading it up
// front also registers its coverage counters before fuzzing starts.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  try {
    (void)tern::model_format_for("model.onnx");
  } catch (const tern::Error& error) {
    std::fprintf(stderr, "onnx fuzz target: the onnx plugin does not load: %s\n", error.what());
    std::exit(1);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tern;
  const std::filesystem::path path = fuzz::write_input("model.onnx", data, size);
  try {
    Graph graph = load_model(path);
    graph.infer_shapes();
    (void)model_stats(graph);
    prepare_for_inference(graph);
  } catch (const Error&) {
    // refused: the expected outcome for most inputs
  }
  return 0;
}
