#include <tern/dataset.hpp>
#include <tern/idx.hpp>
#include <tern/npy.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>

namespace tern {
namespace {

/// Samples as float32 N×C×H×W: N×H×W gains C=1; uint8 is divided; then (x - mean) / std.
Tensor to_model_input(const Tensor& raw, const SampleScaling& scaling, const std::string& where) {
  const Shape& s = raw.shape();
  check(s.rank() == 3 || s.rank() == 4,
        [&] { return where + "samples must be N×H×W or N×C×H×W, got shape " + s.to_string(); });
  check(raw.dtype() == DataType::UInt8 || !info(raw.dtype()).is_integer,
        [&] { return where + "samples must be uint8 or float, got " + std::string(name(raw.dtype())); });
  check(scaling.std != 0.0, [&] { return where + "the normalisation std must not be 0"; });
  const Shape shape = s.rank() == 3 ? Shape{s[0], 1, s[1], s[2]} : s;
  const double divisor = raw.dtype() == DataType::UInt8 ? scaling.uint8_divisor : 1.0;
  // The result is allocated first (under TERN_MAX_TENSOR_BYTES), then filled through a small
  // double buffer: no second, eight-byte-per-value copy of the whole dataset.
  Tensor samples(shape, DataType::Float32);
  float* out = samples.data<float>();
  const Tensor host = raw.backend().host_accessible() ? raw : raw.to(host_backend());
  const auto* in = static_cast<const std::byte*>(host.raw());
  const std::size_t count = static_cast<std::size_t>(raw.numel());
  const std::size_t element = size_of(raw.dtype());
  std::vector<double> chunk(std::min<std::size_t>(count, std::size_t{1} << 14));
  for (std::size_t begin = 0; begin < count; begin += chunk.size()) {
    const std::size_t n = std::min(chunk.size(), count - begin);
    convert(in + begin * element, raw.dtype(), chunk.data(), DataType::Float64, n);
    for (std::size_t i = 0; i < n; ++i)
      out[begin + i] = static_cast<float>((chunk[i] / divisor - scaling.mean) / scaling.std);
  }
  return samples;
}

/// `count` class indices from `raw`; each must be >= 0 and, when the dataset says how many
/// classes it has (`classes`), below that.
std::vector<std::int64_t> to_labels(const Tensor& raw, std::size_t count, const std::string& where,
                                    std::optional<std::int64_t> classes = std::nullopt) {
  check(info(raw.dtype()).is_integer,
        [&] { return where + "labels must be integers, got " + std::string(name(raw.dtype())); });
  check(raw.shape().rank() == 1,
        [&] { return where + "labels must be one-dimensional, got shape " + raw.shape().to_string(); });
  check(static_cast<std::size_t>(raw.numel()) == count,
        [&] { return where + std::to_string(raw.numel()) + " labels for " + std::to_string(count) + " samples"; });
  std::vector<std::int64_t> labels = raw.to_int64s();
  for (std::size_t i = 0; i < labels.size(); ++i)
    check(labels[i] >= 0 && (!classes || labels[i] < *classes), [&] {
      return where + "label " + std::to_string(labels[i]) + " of sample " + std::to_string(i) +
             " is not a class index" +
             (classes ? " in [0, " + std::to_string(*classes - 1) + "]" : std::string(" (labels are >= 0)"));
    });
  return labels;
}

} // namespace

Dataset::Dataset(std::string description, Tensor samples, std::vector<std::int64_t> labels)
    : description_(std::move(description)), samples_(std::move(samples)), labels_(std::move(labels)) {
  check(samples_.dtype() == DataType::Float32 && samples_.shape().rank() == 4 && samples_.backend().host_accessible(),
        [&] {
          return "dataset " + description_ + ": samples must be float32 N×C×H×W on the host, not " +
                 samples_.describe();
        });
  check(labels_.empty() || labels_.size() == size(), [&] {
    return "dataset " + description_ + ": " + std::to_string(labels_.size()) + " labels for " + std::to_string(size()) +
           " samples";
  });
}

Shape Dataset::sample_shape() const {
  const auto& dims = samples_.shape().dims();
  return Shape(std::vector<std::int64_t>(dims.begin() + 1, dims.end()));
}

Tensor Dataset::batch(std::size_t begin, std::size_t count) const {
  check(begin < size(), [&] {
    return "dataset batch starts at " + std::to_string(begin) + ", past its " + std::to_string(size()) + " samples";
  });
  count = std::min(count, size() - begin);
  std::vector<std::int64_t> dims = samples_.shape().dims();
  dims[0] = static_cast<std::int64_t>(count);
  Tensor result{Shape(dims), DataType::Float32};
  const std::size_t per_sample = static_cast<std::size_t>(sample_shape().numel());
  std::memcpy(result.raw(), samples_.data<float>() + begin * per_sample, result.bytes());
  return result;
}

Dataset Dataset::first(std::size_t count) const {
  count = std::min(count, size());
  std::vector<std::int64_t> labels;
  if (has_labels()) labels.assign(labels_.begin(), labels_.begin() + static_cast<std::ptrdiff_t>(count));
  return Dataset(description_ + ", first " + std::to_string(count), batch(0, count), std::move(labels));
}

std::filesystem::path default_fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

Dataset load_fashion_mnist(const std::filesystem::path& dir, const std::string& split, const SampleScaling& scaling) {
  check(split == "train" || split == "test", [&] { return "unknown split '" + split + "' (use train or test)"; });
  const std::string prefix = split == "train" ? "train" : "t10k";
  std::error_code error;
  check(std::filesystem::is_directory(dir, error), [&] {
    return "Fashion-MNIST folder " + dir.string() +
           " is missing: install Debian's dataset-fashion-mnist or give fashion-mnist:DIR";
  });
  const auto images = dir / (prefix + "-images-idx3-ubyte.gz");
  const auto labels = dir / (prefix + "-labels-idx1-ubyte.gz");
  const Tensor raw = read_idx(images);
  Tensor samples = to_model_input(raw, scaling, images.string() + ": ");
  constexpr std::int64_t fashion_mnist_classes = 10;
  std::vector<std::int64_t> label_values = to_labels(read_idx(labels), static_cast<std::size_t>(raw.shape()[0]),
                                                     labels.string() + ": ", fashion_mnist_classes);
  return Dataset("fashion-mnist " + split + " split (" + dir.string() + ")", std::move(samples),
                 std::move(label_values));
}

Dataset load_npy_dataset(const std::filesystem::path& samples, const std::optional<std::filesystem::path>& labels,
                         const SampleScaling& scaling) {
  const Tensor raw = read_npy(samples);
  Tensor inputs = to_model_input(raw, scaling, samples.string() + ": ");
  std::vector<std::int64_t> label_values;
  if (labels)
    label_values = to_labels(read_npy(*labels), static_cast<std::size_t>(raw.shape()[0]), labels->string() + ": ");
  return Dataset(samples.filename().string(), std::move(inputs), std::move(label_values));
}

Dataset open_dataset(const std::string& spec, const std::string& split,
                     const std::optional<std::filesystem::path>& labels, const SampleScaling& scaling) {
  const std::string name = "fashion-mnist";
  if (spec == name) return load_fashion_mnist(default_fashion_mnist_dir(), split, scaling);
  if (spec.starts_with(name + ":")) return load_fashion_mnist(spec.substr(name.size() + 1), split, scaling);
  return load_npy_dataset(spec, labels, scaling);
}

void check_fits(const Dataset& dataset, const Shape& input) {
  const Shape sample = dataset.sample_shape();
  bool fits = input.rank() == sample.rank() + 1;
  for (std::size_t i = 0; fits && i < sample.rank(); ++i)
    fits = input[i + 1] == Shape::dynamic || input[i + 1] == sample[i];
  check(fits, [&] {
    return "dataset " + dataset.description() + " has samples of shape " + sample.to_string() +
           ", the model's input is " + input.to_string() + " (N×...)";
  });
}

} // namespace tern
