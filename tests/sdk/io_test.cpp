// NPY and IDX readers against files numpy wrote (tests/data/make_npy_fixtures.py) and the
// Fashion-MNIST files Debian ships; broken files must give one clear error.
#include <tern/dataset.hpp>
#include <tern/idx.hpp>
#include <tern/npy.hpp>

#include <gtest/gtest.h>

#include "error_testing.hpp"
#include "temp_dir.hpp"

#include <fstream>
#include <zlib.h>

using tern::test::one_line_error;

namespace fs = std::filesystem;

namespace {

const fs::path data = TERN_TEST_DATA_DIR;

std::vector<double> arange(std::size_t n, double scale = 1.0) {
  std::vector<double> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<double>(i) * scale;
  return values;
}

void expect_error(const std::function<void()>& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected tern::Error";
  } catch (const tern::Error& e) {
    for (const std::string& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

/// The folder of this process's test files, removed with them at exit.
const tern::test::TempDir scratch("tern-io-test");

fs::path write_bytes(const std::string& name, const std::string& bytes) {
  const fs::path path = scratch / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

} // namespace

TEST(Npy, ReadsWhatNumpyWrote) {
  const tern::Tensor u8 = tern::read_npy(data / "u8_2x3x4.npy");
  EXPECT_EQ(u8.dtype(), tern::DataType::UInt8);
  EXPECT_EQ(u8.shape(), (tern::Shape{2, 3, 4}));
  EXPECT_EQ(u8.to_doubles(), arange(24));
  EXPECT_EQ(tern::read_npy(data / "u8_2x3x4.npy.gz").to_doubles(), arange(24));
  const tern::Tensor f32 = tern::read_npy(data / "f32_2x1x3x4.npy.gz");
  EXPECT_EQ(f32.shape(), (tern::Shape{2, 1, 3, 4}));
  for (std::size_t i = 0; i < 24; ++i) EXPECT_FLOAT_EQ(f32.data<float>()[i], static_cast<float>(i) / 23.0f);
  EXPECT_EQ(tern::read_npy(data / "f64_5.npy").to_doubles(), arange(5, 0.5));
  EXPECT_EQ(tern::read_npy(data / "i64_labels_2.npy").to_int64s(), (std::vector<std::int64_t>{7, 3}));
  EXPECT_EQ(tern::read_npy(data / "bool_4.npy").to_doubles(), (std::vector<double>{1, 0, 0, 1}));
  const tern::Tensor scalar = tern::read_npy(data / "i32_scalar.npy");
  EXPECT_EQ(scalar.shape().rank(), 0u);
  EXPECT_EQ(scalar.to_doubles(), std::vector<double>{42});
  EXPECT_EQ(tern::read_npy(data / "u8_v2.npy").shape(), (tern::Shape{3, 2}));
}

TEST(Npy, RefusesWhatItCannotReadWithAReason) {
  expect_error([] { tern::read_npy(data / "f32_big_endian.npy"); }, {"f32_big_endian.npy", "unsupported dtype '>f4'"});
  expect_error([] { tern::read_npy(data / "f32_fortran.npy"); }, {"Fortran"});
  expect_error([] { tern::read_npy(data / "complex.npy"); }, {"unsupported dtype '<c8'"});
  expect_error([] { tern::read_npy(write_bytes("magic.npy", "PK\x03\x04 not numpy")); }, {"wrong magic"});
  std::ifstream in(data / "u8_2x3x4.npy", std::ios::binary);
  std::string whole((std::istreambuf_iterator<char>(in)), {});
  expect_error([&] { tern::read_npy(write_bytes("short.npy", whole.substr(0, whole.size() - 5))); }, {"truncated"});
  expect_error([] { tern::read_npy(data / "no_such_file.npy"); }, {"no such file"});
}

namespace {

/// An NPY 2.0 file (4-byte header length) with `header` as its dict and `data` after it.
fs::path npy_with_header(const std::string& name, const std::string& header, const std::string& data_bytes) {
  std::string bytes = std::string("\x93NUMPY\x02\x00", 8);
  for (int i = 0; i < 4; ++i) bytes += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return write_bytes(name, bytes + header + data_bytes);
}

} // namespace

// Headers a regex parser recursed on, wrapped sizes, bytes that are no bool: each refused in
// one line before anything is allocated.
TEST(Npy, HostileHeadersAreRefusedInOneLine) {
  const std::string f32_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  // 60,000 spaces inside the dict: read without recursion, and then it is a valid header.
  const fs::path spaced =
      npy_with_header("spaced.npy", f32_dict + std::string(60000, ' ') + "2,), }", std::string(8, '\0'));
  EXPECT_EQ(tern::read_npy(spaced).shape(), (tern::Shape{2}));
  const fs::path long_header = npy_with_header("long.npy", f32_dict + std::string(200000, ' ') + "2,), }", "");
  EXPECT_NE(one_line_error([&] { tern::read_npy(long_header); }).find("over the 65536-byte limit"), std::string::npos);
  const fs::path huge_dim = npy_with_header("huge_dim.npy", f32_dict + "99999999999999999999,), }", "");
  EXPECT_NE(one_line_error([&] { tern::read_npy(huge_dim); }).find("exceeds 2^63 - 1"), std::string::npos);
  // 2^32 * 2^32 elements wraps to 0 in int64 arithmetic: refused, not read as empty.
  const fs::path wraps = npy_with_header(
      "wraps.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (4294967296, 4294967296, 1), }", "");
  EXPECT_NE(one_line_error([&] { tern::read_npy(wraps); }).find("needs more than 2^63"), std::string::npos);
  const fs::path bools = npy_with_header("bools.npy", "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                                         std::string("\x01\xdc\x00", 3));
  EXPECT_NE(one_line_error([&] { tern::read_npy(bools); }).find("bool element 1 is byte 220, not 0 or 1"),
            std::string::npos);
  const fs::path newline =
      npy_with_header("newline.npy", "{'descr': '<f\n4', 'fortran_order': False, 'shape': (), }", "");
  EXPECT_NE(one_line_error([&] { tern::read_npy(newline); }).find("non-printable byte"), std::string::npos);
  for (const std::string& broken :
       {std::string("{'descr': '<f4', 'shape': (2,), }"), std::string("{'descr': '<f4'"),
        std::string("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (), }"),
        std::string("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (), }"),
        std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), std::string("")})
    EXPECT_NE(one_line_error([&] {
                tern::read_npy(npy_with_header("broken.npy", broken, ""));
              }).find("NPY header is malformed at byte"),
              std::string::npos)
        << broken;
}

TEST(Npy, WriteThenReadGivesTheSameTensor) {
  const tern::Tensor original = tern::Tensor::from_floats(tern::Shape{2, 3}, {0.5f, -1.f, 2.f, 3.f, 4.f, 1e-3f});
  const fs::path path = scratch / "roundtrip.npy";
  tern::write_npy(original, path);
  const tern::Tensor back = tern::read_npy(path);
  EXPECT_EQ(back.shape(), original.shape());
  EXPECT_EQ(back.to_doubles(), original.to_doubles());
  std::ifstream in(path, std::ios::binary);
  std::string head(128, '\0');
  in.read(head.data(), 128);
  // numpy aligns the data to 64 bytes and ends the header with a newline.
  const std::size_t header_end = 10 + static_cast<unsigned char>(head[8]) + 256u * static_cast<unsigned char>(head[9]);
  EXPECT_EQ(header_end % 64, 0u);
  EXPECT_EQ(head[header_end - 1], '\n');
}

TEST(Idx, ReadsDebiansFashionMnist) {
  const fs::path dir = tern::default_fashion_mnist_dir();
  if (!fs::exists(dir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const tern::Tensor labels = tern::read_idx(dir / "t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(labels.shape(), (tern::Shape{10000}));
  // The first test images are an ankle boot, a pullover and two trousers (classes 9, 2, 1, 1).
  const std::vector<double> values = labels.to_doubles();
  EXPECT_EQ(std::vector<double>(values.begin(), values.begin() + 4), (std::vector<double>{9, 2, 1, 1}));
  const tern::Tensor images = tern::read_idx(dir / "t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(images.shape(), (tern::Shape{10000, 28, 28}));
}

TEST(Idx, TruncatedOrWrongFilesGiveOneClearError) {
  std::string header("\0\0\x08\x01\0\0\0\x0a", 8);
  expect_error([&] { tern::read_idx(write_bytes("short.idx", header + "abc")); }, {"short.idx", "truncated"});
  expect_error([&] { tern::read_idx(write_bytes("magic.idx", "\x89PNG")); }, {"not an IDX file"});
  expect_error([&] { tern::read_idx(write_bytes("float.idx", std::string("\0\0\x0d\x01\0\0\0\x01", 8) + "abcd")); },
               {"not unsigned byte"});
  // A gzip stream cut in half.
  std::string compressed(256, '\0');
  uLongf size = compressed.size();
  const std::string payload = header + "0123456789";
  z_stream stream{};
  deflateInit2(&stream, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  stream.avail_in = static_cast<uInt>(payload.size());
  stream.next_out = reinterpret_cast<Bytef*>(compressed.data());
  stream.avail_out = static_cast<uInt>(size);
  deflate(&stream, Z_FINISH);
  compressed.resize(stream.total_out / 2);
  deflateEnd(&stream);
  expect_error([&] { tern::read_idx(write_bytes("cut.idx.gz", compressed)); }, {"cut.idx.gz"});
}

TEST(Dataset, NpyAndIdxOfTheSameImagesAgree) {
  const tern::Dataset npy = tern::load_npy_dataset(data / "u8_2x3x4.npy.gz", data / "i64_labels_2.npy");
  EXPECT_EQ(npy.size(), 2u);
  EXPECT_EQ(npy.sample_shape(), (tern::Shape{1, 3, 4})); // N×H×W gains a channel
  EXPECT_EQ(npy.labels(), (std::vector<std::int64_t>{7, 3}));
  const tern::Tensor second = npy.batch(1, 5); // clipped at the end
  EXPECT_EQ(second.shape(), (tern::Shape{1, 1, 3, 4}));
  EXPECT_FLOAT_EQ(second.data<float>()[0], 12.0f / 255.0f);
  const tern::Dataset floats = tern::load_npy_dataset(data / "f32_2x1x3x4.npy.gz", std::nullopt);
  EXPECT_FALSE(floats.has_labels());
  EXPECT_FLOAT_EQ(floats.batch(0, 1).data<float>()[23 - 12], 11.0f / 23.0f); // float samples are not rescaled
}

TEST(Dataset, MismatchesAreClearErrors) {
  expect_error([] { tern::load_npy_dataset(data / "u8_2x3x4.npy", data / "f64_5.npy"); }, {"labels must be integers"});
  expect_error([] { tern::load_npy_dataset(data / "u8_2x3x4.npy", data / "bool_4.npy"); }, {"4 labels for 2 samples"});
  expect_error([] { tern::load_npy_dataset(data / "f64_5.npy", std::nullopt); }, {"N×H×W or N×C×H×W"});
  const tern::Dataset npy = tern::load_npy_dataset(data / "u8_2x3x4.npy", std::nullopt);
  expect_error(
      [&] {
        tern::check_fits(npy, tern::Shape{tern::Shape::dynamic, 1, 28, 28});
      },
      {"[1,3,4]", "[?,1,28,28]"});
  EXPECT_NO_THROW(tern::check_fits(npy, tern::Shape{tern::Shape::dynamic, 1, 3, 4}));
  expect_error([] { tern::open_dataset("fashion-mnist:/nonexistent", "test"); }, {"/nonexistent", "missing"});
  expect_error([] { tern::open_dataset("fashion-mnist", "validation"); }, {"unknown split 'validation'"});
}
