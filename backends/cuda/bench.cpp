// GB/s of the cuda plugin's range, histogram and fake-quantization kernels against the CPU
// code doing the same work, on the same 256 MB of float32 activations. GPU kernels are timed
// with CUDA events on device-resident data (best of 10); the CPU rows are the cpu plugin's
// kernels of the same ops, the graph Mul -> Round -> Clip -> Mul the PTQ writes, and the
// PTQ's ValueStatistics (range, then histogram), best of 3. One row shows what
// use_cuda pays per observed tensor: the op through Tern from a host tensor, copy included.
#include "cuda_check.hpp"
#include "fake_quantize.cuh"
#include "histogram.cuh"
#include "range.cuh"

#include "histogram.hpp"

#include <tern/plugin.hpp>
#include <tern/scheduler.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>

namespace {

using tern::cuda::cuda_check;

constexpr std::int64_t values = 64 * 1024 * 1024; // 256 MB of float32
constexpr double megabytes = values * 4.0 / 1e6;

double best_seconds(int repeats, const std::function<void()>& run) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

/// Best of 10 runs of a kernel launch, timed on the stream with events (after one warm-up).
double best_gpu_seconds(cudaStream_t stream, const std::function<cudaError_t()>& launch) {
  cudaEvent_t start, stop;
  cuda_check(cudaEventCreate(&start), "cudaEventCreate");
  cuda_check(cudaEventCreate(&stop), "cudaEventCreate");
  cuda_check(launch(), "warm-up launch");
  float best = 1e30f;
  for (int r = 0; r < 10; ++r) {
    cuda_check(cudaEventRecord(start, stream), "cudaEventRecord");
    cuda_check(launch(), "launch");
    cuda_check(cudaEventRecord(stop, stream), "cudaEventRecord");
    cuda_check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    cuda_check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    best = std::min(best, ms);
  }
  cuda_check(cudaEventDestroy(start), "cudaEventDestroy");
  cuda_check(cudaEventDestroy(stop), "cudaEventDestroy");
  return best / 1e3;
}

template <class T> T* device_array(std::size_t count) {
  void* memory = nullptr;
  cuda_check(cudaMalloc(&memory, count * sizeof(T)), "cudaMalloc");
  return static_cast<T*>(memory);
}

void row(const char* what, double bytes_moved, double seconds, double peak) {
  const double rate = bytes_moved / seconds / 1e9;
  if (peak > 0)
    std::printf("  %-68s %9.2f ms %9.1f GB/s  (%4.1f%% of peak)\n", what, seconds * 1e3, rate, 100.0 * rate / peak);
  else
    std::printf("  %-68s %9.2f ms %9.1f GB/s\n", what, seconds * 1e3, rate);
}

/// Runs `graph` on `backend` once per call: a one-node graph of a PtqXxx op, or the fake-quant chain.
std::function<void()> runner(const tern::Graph& graph, const std::string& backend, std::vector<tern::Tensor> inputs) {
  auto scheduler = std::make_shared<tern::SequentialScheduler>(graph, std::vector<std::string>{backend});
  return [scheduler, inputs] {
    for (tern::Tensor& output : scheduler->forward(inputs))
      (void)output.to(tern::host_backend()); // waits for the device
  };
}

tern::Graph one_op(const std::string& op, tern::Attributes attrs, bool with_range, std::size_t outputs) {
  tern::Graph graph;
  graph.add_input("x", tern::DataType::Float32, tern::Shape{values});
  std::vector<std::string> inputs{"x"}, names;
  if (with_range) {
    graph.add_input("range", tern::DataType::Float64, tern::Shape{1});
    inputs.push_back("range");
  }
  for (std::size_t i = 0; i < outputs; ++i) names.push_back("out" + std::to_string(i));
  graph.add_node(op, inputs, names, std::move(attrs));
  for (const std::string& name : names) graph.add_output(name);
  return graph;
}

/// The kernels on device-resident data, timed with CUDA events; prints the device's peak.
void gpu_rows(const std::vector<float>& host, const tern::cuda::FakeQuantizeParams& params, float abs_max) {
  int device = 0;
  cuda_check(cudaGetDevice(&device), "cudaGetDevice");
  cudaDeviceProp properties{};
  cuda_check(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
  int clock_khz = 0, bus_bits = 0;
  cuda_check(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device), "cudaDeviceGetAttribute");
  cuda_check(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device), "cudaDeviceGetAttribute");
  const double peak = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9; // double data rate
  std::printf("device: %s, peak memory bandwidth %.0f GB/s\n", properties.name, peak);

  cudaStream_t stream;
  cuda_check(cudaStreamCreate(&stream), "cudaStreamCreate");
  const tern::cuda::ChannelLayout layout{1, 1, values};
  float* dx = device_array<float>(values);
  float* dy = device_array<float>(values);
  float* ranges = device_array<float>(3);
  void* scratch = device_array<std::byte>(tern::cuda::range_scratch_bytes(layout));
  auto* counts = device_array<unsigned long long>(2048);
  cuda_check(cudaMemcpy(dx, host.data(), values * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy");

  std::printf("cuda kernels (device-resident data, CUDA events, best of 10):\n");
  row("range (min, max, max|x|, non-finite count), read", values * 4.0,
      best_gpu_seconds(stream, [&] { return tern::cuda::launch_range(dx, layout, scratch, ranges, nullptr, stream); }),
      peak);
  row("histogram of |x|, 2048 bins, read", values * 4.0,
      best_gpu_seconds(
          stream, [&] { return tern::cuda::launch_histogram(dx, values, 2048.0 / abs_max, 2048, counts, stream); }),
      peak);
  row("fake quantization, read + write", values * 8.0,
      best_gpu_seconds(stream, [&] { return tern::cuda::launch_fake_quantize(dx, dy, values, params, stream); }), peak);
  for (void* memory : {static_cast<void*>(dx), static_cast<void*>(dy), static_cast<void*>(ranges), scratch,
                       static_cast<void*>(counts)})
    cuda_check(cudaFree(memory), "cudaFree");
  cuda_check(cudaStreamDestroy(stream), "cudaStreamDestroy");
}

void run() {
  std::printf("data: %.0f MB of float32, normal(0, 1.5)\n", megabytes);
  std::vector<float> host(values);
  std::mt19937 random(1);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  for (float& v : host) v = normal(random);
  const tern::Tensor x = tern::Tensor::from_floats(tern::Shape{values}, host);
  float abs_max = 0;
  for (const float v : host) abs_max = std::max(abs_max, std::abs(v));
  tern::cuda::FakeQuantizeParams params;
  params.factor = 127.0f / abs_max;
  params.scale = abs_max / 127.0f;
  params.lo = -128;
  params.hi = 127;

  // Without a device the CPU rows still run (and say so): the script checks usability first.
  int devices = 0;
  const cudaError_t found = cudaGetDeviceCount(&devices);
  const bool gpu = found == cudaSuccess && devices > 0;
  if (gpu)
    gpu_rows(host, params, abs_max);
  else
    std::printf("no usable CUDA device (%s): GPU rows skipped\n",
                found == cudaSuccess ? "none found" : tern::cuda::error_text(found).c_str());

  // --- the same work on the CPU ------------------------------------------------------------
  tern::PluginHost::instance().load("ptq"); // the Ptq* operators' schemas are the PTQ plugin's
  tern::Attributes fake;
  fake.set("factor", std::vector<double>{params.factor});
  fake.set("scale", std::vector<double>{params.scale});
  fake.set("lo", -128.0);
  fake.set("hi", 127.0);
  tern::Attributes bins;
  bins.set("bins", std::int64_t{2048});
  const tern::Tensor range = tern::Tensor::from(tern::Shape{1}, tern::DataType::Float64, std::vector<double>{abs_max});
  const tern::Graph range_graph = one_op("PtqRange", {}, false, 2);
  const tern::Graph histogram_graph = one_op("PtqHistogram", bins, true, 1);
  const tern::Graph fake_graph = one_op("PtqFakeQuantize", fake, false, 1);
  tern::Graph chain;
  chain.add_input("x", tern::DataType::Float32, tern::Shape{values});
  chain.add_constant("factor", tern::Tensor::from_floats(tern::Shape{}, {params.factor}));
  chain.add_constant("scale", tern::Tensor::from_floats(tern::Shape{}, {params.scale}));
  chain.add_constant("lo", tern::Tensor::from_floats(tern::Shape{}, {-128.0f}));
  chain.add_constant("hi", tern::Tensor::from_floats(tern::Shape{}, {127.0f}));
  chain.add_node("Mul", {"x", "factor"}, {"scaled"});
  chain.add_node("Round", {"scaled"}, {"rounded"});
  chain.add_node("Clip", {"rounded", "lo", "hi"}, {"clipped"});
  chain.add_node("Mul", {"clipped", "scale"}, {"y"});
  chain.add_output("y");

  std::printf("cpu (the cpu plugin's kernels and the PTQ's own code, all cores, best of 3):\n");
  row("PtqRange, read", values * 4.0, best_seconds(3, runner(range_graph, "cpu", {x})), 0);
  row("PtqHistogram, 2048 bins, read", values * 4.0, best_seconds(3, runner(histogram_graph, "cpu", {x, range})), 0);
  row("PtqFakeQuantize, read + write", values * 8.0, best_seconds(3, runner(fake_graph, "cpu", {x})), 0);
  row("graph Mul -> Round -> Clip -> Mul (oneDNN + native), read + write", values * 8.0,
      best_seconds(3, runner(chain, "cpu", {x})), 0);
  row("ValueStatistics, both passes (the PTQ's range, then histogram), read twice", values * 8.0,
      best_seconds(3,
                   [&] {
                     tern::ptq::ValueStatistics statistics(2048);
                     statistics.add_extremes(x);
                     statistics.add_histogram(x);
                   }),
      0);

  if (!gpu) return;
  std::printf("use_cuda's cost per observed tensor (through Tern, host tensor in):\n");
  row("PtqRange on cuda, host -> device copy included", values * 4.0, best_seconds(3, runner(range_graph, "cuda", {x})),
      0);
}

} // namespace

int main() {
  try {
    run();
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tern_cuda_bench: %s\n", error.what());
    return 1;
  }
}
