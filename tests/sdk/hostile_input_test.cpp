// Dataset files and models whose headers promise more than they hold, or whose sizes do not
// fit int64: each refused with one line, quickly, before anything large is allocated.
#include <tern/dataset.hpp>
#include <tern/idx.hpp>
#include <tern/model_stats.hpp>
#include <tern/npy.hpp>

#include <gtest/gtest.h>

#include "error_testing.hpp"
#include "temp_dir.hpp"

#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>

using tern::test::one_line_error;
using tern::test::ScopedEnv;

namespace fs = std::filesystem;

namespace {

using tern::test::TempDir;

fs::path write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

/// An IDX file of unsigned bytes: the header for `dims`, then `data`.
std::string idx_bytes(const std::vector<std::uint32_t>& dims, const std::string& data) {
  std::string bytes{'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (const std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((d >> shift) & 0xff);
  return bytes + data;
}

/// Seconds `fn` took.
double seconds(const std::function<void()>& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

// A 16-byte file promising 60000 images of 28x28 used to allocate (and zero) them before
// comparing; one promising 12 GB took 21 s. Now the header is compared with the file first.
TEST(HostileIdx, AHeaderPromisingMoreThanTheFileHoldsIsRefusedAtOnce) {
  TempDir dir;
  const fs::path mnist = write_bytes(dir / "images.idx", idx_bytes({60000, 28, 28}, ""));
  ASSERT_EQ(fs::file_size(mnist), 16u);
  std::string message;
  EXPECT_LT(seconds([&] { message = one_line_error([&] { (void)tern::read_idx(mnist); }); }), 1.0);
  EXPECT_EQ(message, mnist.string() + ": holds 0 data bytes after its 16-byte header, which promises [60000,28,28] "
                                      "unsigned bytes: 47040000 (truncated?)");

  // 12 GB promised: refused before allocating, so even a 1-byte tensor limit is never reached.
  const ScopedEnv limit("TERN_MAX_TENSOR_BYTES", "1");
  const fs::path twelve_gb = write_bytes(dir / "12gb.idx", idx_bytes({65535, 65535, 3}, "abc"));
  EXPECT_LT(seconds([&] { message = one_line_error([&] { (void)tern::read_idx(twelve_gb); }); }), 1.0);
  EXPECT_EQ(message, twelve_gb.string() + ": holds 3 data bytes after its 16-byte header, which promises "
                                          "[65535,65535,3] unsigned bytes: 12884508675 (truncated?)");

  // Dimensions whose product does not fit int64.
  const fs::path wraps = write_bytes(dir / "wraps.idx", idx_bytes({0xffffffff, 0xffffffff, 0xffffffff}, ""));
  EXPECT_EQ(one_line_error([&] { (void)tern::read_idx(wraps); }),
            wraps.string() + ": holds 0 data bytes after its 16-byte header, which promises "
                             "[4294967295,4294967295,4294967295] unsigned bytes: more than 2^63 (truncated?)");
}

TEST(HostileIdx, AFileThatFitsItsHeaderIsStillUnderTheTensorLimit) {
  TempDir dir;
  const fs::path file = write_bytes(dir / "small.idx", idx_bytes({2, 3}, "abcdef"));
  EXPECT_EQ(tern::read_idx(file).shape(), (tern::Shape{2, 3}));
  const ScopedEnv limit("TERN_MAX_TENSOR_BYTES", "5");
  EXPECT_EQ(one_line_error([&] { (void)tern::read_idx(file); }),
            "a uint8[2,3] tensor needs 6 bytes, over the limit of 5 bytes (TERN_MAX_TENSOR_BYTES)");
}

// A small gzip stream that inflates without end stops at the tensor limit plus header room.
TEST(HostileIdx, DecompressionStopsPastTheTensorLimit) {
  TempDir dir;
  const fs::path bomb = dir / "bomb.idx.gz";
  gzFile out = gzopen(bomb.c_str(), "wb9");
  ASSERT_NE(out, nullptr);
  const std::string header = idx_bytes({3u << 20}, "");
  gzwrite(out, header.data(), static_cast<unsigned>(header.size()));
  const std::string zeros(1 << 20, '\0');
  for (int i = 0; i < 3; ++i) gzwrite(out, zeros.data(), static_cast<unsigned>(zeros.size()));
  gzclose(out);
  EXPECT_LT(fs::file_size(bomb), 20000u);
  const ScopedEnv limit("TERN_MAX_TENSOR_BYTES", "1000");
  EXPECT_EQ(one_line_error([&] { (void)tern::read_idx(bomb); }),
            bomb.string() + ": holds more than 1049576 bytes (decompressed), over the limit of 1000 bytes for one "
                            "tensor (TERN_MAX_TENSOR_BYTES) plus a header");
}

TEST(HostileDataset, LabelsMustBeClassIndices) {
  TempDir dir;
  // Fashion-MNIST names its ten classes 0 to 9.
  write_bytes(dir / "t10k-images-idx3-ubyte.gz", idx_bytes({2, 2, 2}, std::string(8, '\x10')));
  const fs::path labels = write_bytes(dir / "t10k-labels-idx1-ubyte.gz", idx_bytes({2}, "\x03\x0c"));
  EXPECT_EQ(one_line_error([&] { (void)tern::load_fashion_mnist(dir.path(), "test"); }),
            labels.string() + ": label 12 of sample 1 is not a class index in [0, 9]");
  write_bytes(labels, idx_bytes({2}, "\x03\x09"));
  EXPECT_EQ(tern::load_fashion_mnist(dir.path(), "test").labels(), (std::vector<std::int64_t>{3, 9}));

  // NPY labels say nothing of the class count, but a class index is never negative.
  const fs::path samples = dir / "samples.npy";
  const fs::path npy_labels = dir / "labels.npy";
  tern::write_npy(tern::Tensor(tern::Shape{2, 2, 2}, tern::DataType::UInt8), samples);
  tern::write_npy(tern::Tensor::from(tern::Shape{2}, tern::DataType::Int64, std::vector<std::int64_t>{-1, 0}),
                  npy_labels);
  EXPECT_EQ(one_line_error([&] { (void)tern::load_npy_dataset(samples, npy_labels); }),
            npy_labels.string() + ": label -1 of sample 0 is not a class index (labels are >= 0)");
}

// `tern info`'s statistics: a MAC count past int64 is an error naming the node, never a
// wrapped (or saturated) number.
TEST(HostileModelStats, MacCountsThatOverflowAreRefused) {
  constexpr std::int64_t big = std::int64_t{1} << 31;
  tern::Graph graph;
  graph.add_input("a", tern::DataType::Float32, tern::Shape{big, big});
  graph.add_input("b", tern::DataType::Float32, tern::Shape{big, big});
  graph.add_node("MatMul", {"a", "b"}, {"y"}, {}, "mm");
  graph.add_output("y");
  EXPECT_EQ(one_line_error([&] { (void)tern::model_stats(graph); }),
            "node 'mm' (MatMul): its multiply-accumulate count: 4611686018427387904 x 2147483648 overflows int64");

  // Just under: counted exactly.
  tern::Graph fits;
  fits.add_input("a", tern::DataType::Float32, tern::Shape{std::int64_t{1} << 20, std::int64_t{1} << 20});
  fits.add_input("b", tern::DataType::Float32, tern::Shape{std::int64_t{1} << 20, 4});
  fits.add_node("MatMul", {"a", "b"}, {"y"}, {}, "mm");
  fits.add_output("y");
  EXPECT_EQ(tern::model_stats(fits).macs, std::int64_t{1} << 42);

  // A Conv with no output channels counts 0 MACs (it used to divide by zero).
  tern::Graph empty;
  empty.add_input("x", tern::DataType::Float32, tern::Shape{1, 1, 4, 4});
  empty.add_constant("w", tern::Tensor(tern::Shape{0, 1, 3, 3}, tern::DataType::Float32));
  empty.add_node("Conv", {"x", "w"}, {"y"}, {}, "conv");
  empty.add_output("y");
  EXPECT_EQ(tern::model_stats(empty).macs, 0);
}
