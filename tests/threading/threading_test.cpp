// The cpu backend's threading contract (tern.h: "one runtime per thread to run in
// parallel"), through the public API only: Runtimes run concurrently on different threads
// and a Runtime moved between threads give the results of one thread, bit for bit; and
// the backend's thread count, set from any thread, holds on the thread that runs a forward.
// Also built with ThreadSanitizer by the threading.tsan test (tsan_check.sh).
#include <tern/tern.hpp>

#include <gtest/gtest.h>
#include <omp.h>

#include <bit>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

const std::filesystem::path models = TERN_MODELS_DIR;

/// Forwards per thread: enough for the threads to overlap many times, still fast.
constexpr int forwards = 20;

/// A Fashion-MNIST-shaped batch [batch, 1, 28, 28] of values in [0, 1), different per seed.
tern::Tensor image(std::uint32_t seed, std::int64_t batch) {
  tern::Tensor x(tern::Shape{batch, 1, 28, 28}, tern::DataType::Float32);
  float* data = x.data<float>();
  std::uint32_t state = seed * 2654435761u + 12345u;
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    state = state * 1664525u + 1013904223u; // a linear congruential generator: same on every run
    data[i] = static_cast<float>(state >> 8) / static_cast<float>(1u << 24);
  }
  return x;
}

/// `count` inputs from seed `first` on; batch sizes cycle 1, 2, 3, so the kernels also
/// rebuild their primitives (new shapes) while other threads run theirs.
std::vector<tern::Tensor> inputs(std::uint32_t first, int count) {
  std::vector<tern::Tensor> batch;
  for (int i = 0; i < count; ++i) batch.push_back(image(first + static_cast<std::uint32_t>(i), 1 + i % 3));
  return batch;
}

/// The bits of every output of one forward, for comparing bit for bit (not as floats: -0
/// equals 0 there).
using Bits = std::vector<std::vector<std::uint32_t>>;

Bits bits_of(const std::vector<tern::Tensor>& outputs) {
  Bits bits;
  for (const tern::Tensor& output : outputs) {
    const float* data = output.data<float>();
    std::vector<std::uint32_t>& out = bits.emplace_back();
    for (std::int64_t i = 0; i < output.numel(); ++i) out.push_back(std::bit_cast<std::uint32_t>(data[i]));
  }
  return bits;
}

/// Runs `runtime` on each input in turn.
std::vector<Bits> run_all(tern::Runtime& runtime, const std::vector<tern::Tensor>& batch) {
  std::vector<Bits> results;
  for (const tern::Tensor& x : batch) results.push_back(bits_of(runtime.run({x})));
  return results;
}

/// Runs `body` on a new thread and waits for it; rethrows what it threw.
template <class Body> void on_thread(Body body) {
  std::exception_ptr error;
  std::thread thread([&] {
    try {
      body();
    } catch (...) {
      error = std::current_exception();
    }
  });
  thread.join();
  if (error) std::rethrow_exception(error);
}

tern::Runtime cpu_runtime(const std::string& model) { return tern::Runtime(models / model, {"cpu"}); }

/// Restores the cpu backend's default thread count when a test ends, even a failing one.
struct DefaultThreadsAfter {
  ~DefaultThreadsAfter() { tern::backend("cpu").set_num_threads(0); }
};

/// (a) Two Runtimes on two threads at once, each running `forwards` different inputs,
/// give what the same inputs give run on one thread before.
void expect_parallel_runtimes_match(const std::string& model_a, const std::string& model_b) {
  const std::vector<tern::Tensor> inputs_a = inputs(0, forwards), inputs_b = inputs(1000, forwards);
  std::vector<Bits> expected_a, expected_b;
  {
    tern::Runtime a = cpu_runtime(model_a), b = cpu_runtime(model_b);
    expected_a = run_all(a, inputs_a);
    expected_b = run_all(b, inputs_b);
  }

  // Fresh Runtimes: their kernels also build their primitives concurrently, and with the
  // same model oneDNN's primitive cache hands both threads the same primitives.
  tern::Runtime a = cpu_runtime(model_a), b = cpu_runtime(model_b);
  std::vector<Bits> got_a, got_b;
  std::exception_ptr error_a, error_b;
  const auto worker = [](tern::Runtime& runtime, const std::vector<tern::Tensor>& batch, std::vector<Bits>& got,
                         std::exception_ptr& error) {
    try {
      got = run_all(runtime, batch);
    } catch (...) {
      error = std::current_exception();
    }
  };
  std::thread thread_a(worker, std::ref(a), std::cref(inputs_a), std::ref(got_a), std::ref(error_a));
  std::thread thread_b(worker, std::ref(b), std::cref(inputs_b), std::ref(got_b), std::ref(error_b));
  thread_a.join();
  thread_b.join();
  if (error_a) std::rethrow_exception(error_a);
  if (error_b) std::rethrow_exception(error_b);
  ASSERT_EQ(got_a.size(), expected_a.size());
  ASSERT_EQ(got_b.size(), expected_b.size());
  for (std::size_t i = 0; i < expected_a.size(); ++i) EXPECT_EQ(got_a[i], expected_a[i]) << model_a << " forward " << i;
  for (std::size_t i = 0; i < expected_b.size(); ++i) EXPECT_EQ(got_b[i], expected_b[i]) << model_b << " forward " << i;
}

TEST(CpuThreading, TwoRuntimesOfResNetInParallelMatchOneThread) {
  expect_parallel_runtimes_match("resnet_tiny.onnx", "resnet_tiny.onnx");
}

TEST(CpuThreading, TwoRuntimesOfConvNetInParallelMatchOneThread) {
  expect_parallel_runtimes_match("convnet.onnx", "convnet.onnx");
}

TEST(CpuThreading, RuntimesOfDifferentModelsInParallelMatchOneThread) {
  expect_parallel_runtimes_match("resnet_tiny.onnx", "convnet.onnx");
}

/// (b) One Runtime run on thread A, then on thread B, then on the main thread gives the
/// one-thread results: what its kernels keep (primitives, memory objects bound to a
/// thread's scratch buffers) must follow it to whichever thread runs it.
TEST(CpuThreading, RuntimeMovedBetweenThreadsMatchesOneThread) {
  for (const std::string model : {"resnet_tiny.onnx", "convnet.onnx"}) {
    SCOPED_TRACE(model);
    // Thread B starts with the batch size thread A ended with: kernels prepared on A run on
    // B as they are; later inputs change the shapes on B and on the main thread.
    const std::vector<tern::Tensor> all = inputs(500, 9);
    const std::vector<tern::Tensor> on_a(all.begin(), all.begin() + 3), on_b(all.begin() + 2, all.begin() + 6),
        on_main(all.begin() + 6, all.end());
    std::vector<Bits> expected;
    {
      tern::Runtime reference = cpu_runtime(model);
      expected = run_all(reference, all);
    }

    tern::Runtime runtime = cpu_runtime(model);
    std::vector<Bits> got_a, got_b, got_main;
    on_thread([&] { got_a = run_all(runtime, on_a); });
    on_thread([&] { got_b = run_all(runtime, on_b); });
    got_main = run_all(runtime, on_main);
    EXPECT_EQ(got_a, std::vector<Bits>(expected.begin(), expected.begin() + 3));
    EXPECT_EQ(got_b, std::vector<Bits>(expected.begin() + 2, expected.begin() + 6));
    EXPECT_EQ(got_main, std::vector<Bits>(expected.begin() + 6, expected.end()));
  }
}

/// (c) The thread count belongs to the backend: set from the main thread, it is the
/// OpenMP count of another thread once that thread ran a forward (whatever that thread had
/// set itself), and set_num_threads(0) brings back OpenMP's default. The forwards here run
/// small steps (batch 1) on one thread: each gives the thread's count back after it.
TEST(CpuThreading, ThreadCountSetOnOneThreadAppliesOnAnother) {
  const DefaultThreadsAfter restore;
  tern::Backend& cpu = tern::backend("cpu");
  tern::Runtime runtime = cpu_runtime("convnet.onnx");
  const tern::Tensor x = image(7, 1);

  // OpenMP's default: what a thread that never set its count sees (OMP_NUM_THREADS or
  // one per core), and what the backend was made with (nothing here changed it before).
  int default_threads = 0;
  on_thread([&] { default_threads = omp_get_max_threads(); });
  ASSERT_GE(default_threads, 1);
  const int chosen = default_threads + 1; // differs from the default, and from what the thread sets
  const int own = default_threads + 2;

  cpu.set_num_threads(chosen);
  int seen = 0;
  on_thread([&] {
    omp_set_num_threads(own); // the thread's own setting, which the forward must override
    runtime.run({x});
    seen = omp_get_max_threads();
  });
  EXPECT_EQ(seen, chosen);

  cpu.set_num_threads(0);
  on_thread([&] {
    omp_set_num_threads(own);
    runtime.run({x});
    seen = omp_get_max_threads();
  });
  EXPECT_EQ(seen, default_threads);

  // The main thread too, after its own forward.
  cpu.set_num_threads(chosen);
  omp_set_num_threads(own);
  runtime.run({x});
  EXPECT_EQ(omp_get_max_threads(), chosen);
  cpu.set_num_threads(0);
  runtime.run({x});
  EXPECT_EQ(omp_get_max_threads(), default_threads);
}

} // namespace
