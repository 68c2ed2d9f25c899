// The ConvNet run from C (sdk/examples/embed_host/main.c through <tern/tern.h>) gives
// exactly, bit for bit, the logits tern::Runtime gives in C++ on the same batch.
#include <tern/tern.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>

namespace {

/// stdout of `command`; fails the test when it exits non-zero.
std::string output_of(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  EXPECT_NE(pipe, nullptr);
  std::string text;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0;) text.append(buffer, n);
  EXPECT_EQ(::pclose(pipe.release()), 0) << command;
  return text;
}

/// The C program's batch: pixel i is ((i * 7919) % 256) / 255, computed the same way.
tern::Tensor synthetic_batch(std::int64_t count) {
  std::vector<float> pixels(static_cast<std::size_t>(count) * 28 * 28);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>((i * 7919u) % 256u) / 255.0f;
  return tern::Tensor::from_floats({count, 1, 28, 28}, pixels);
}

TEST(CApi, ConvNetFromCMatchesCppExactly) {
  constexpr std::int64_t count = 6;
  std::istringstream lines(
      output_of(std::string(TERN_EMBED_HOST_C) + " " + TERN_CONVNET + " cpu " + std::to_string(count)));
  std::string line;
  while (std::getline(lines, line) && !line.starts_with("logits ")) EXPECT_TRUE(line.starts_with("node ")) << line;
  ASSERT_EQ(line, "logits 6 10");

  tern::Runtime runtime(std::filesystem::path(TERN_CONVNET), {"cpu"});
  const tern::Tensor expected = runtime.run({synthetic_batch(count)})[0];
  ASSERT_EQ(expected.numel(), count * 10);
  for (std::int64_t i = 0; i < expected.numel(); ++i) {
    ASSERT_TRUE(std::getline(lines, line));
    // %a round-trips a float exactly; compare the bits, not within a tolerance.
    const float from_c = std::strtof(line.c_str(), nullptr);
    EXPECT_EQ(std::memcmp(&from_c, expected.data<float>() + i, sizeof(float)), 0)
        << "logit " << i << ": C " << line << ", C++ " << expected.data<float>()[i];
  }
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_TRUE(line.starts_with("top-1: ")) << line;
}

} // namespace
