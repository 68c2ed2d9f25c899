#pragma once
/// \file dataset.hpp
/// Labelled image datasets for evaluation and calibration: Fashion-MNIST IDX files (found
/// through Debian's dataset-fashion-mnist package by default) or NPY(.gz) files as the seed
/// tutorial stores them. The CLI (`tern eval`, `tern quantize`) and PTQ calibration use it.

#include <tern/tensor.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tern {

/// Images as float32 N×C×H×W and (optionally) int64 labels, held in host memory.
class Dataset {
public:
  /// `samples` is float32 [N, C, H, W] on the host; `labels` empty or N of them.
  Dataset(std::string description, Tensor samples, std::vector<std::int64_t> labels);

  /// e.g. "fashion-mnist test split (/usr/share/datasets/fashion-mnist)".
  const std::string& description() const { return description_; }
  /// Number of samples.
  std::size_t size() const { return static_cast<std::size_t>(samples_.shape()[0]); }
  /// C×H×W of one sample.
  Shape sample_shape() const;
  /// True when every sample has a label.
  bool has_labels() const { return !labels_.empty(); }
  /// One class index per sample (empty when unlabelled).
  const std::vector<std::int64_t>& labels() const { return labels_; }
  /// Samples [begin, begin + count) as one float32 tensor (a copy; count is clipped at the end).
  Tensor batch(std::size_t begin, std::size_t count) const;
  /// The first `count` samples (all when count exceeds the size).
  Dataset first(std::size_t count) const;

private:
  std::string description_;
  Tensor samples_;
  std::vector<std::int64_t> labels_;
};

/// How raw sample values become model inputs.
struct SampleScaling {
  /// uint8 samples are divided by this (255: [0,1] like the example models). Float
  /// samples are used as they are.
  double uint8_divisor = 255.0;
  /// Then (x - mean) / std, applied to every sample value.
  double mean = 0.0;
  double std = 1.0;
};

/// Where Debian's dataset-fashion-mnist package puts the IDX files.
std::filesystem::path default_fashion_mnist_dir();

/// Fashion-MNIST from IDX(.gz) files in `dir`; split is "train" or "test".
Dataset load_fashion_mnist(const std::filesystem::path& dir, const std::string& split,
                           const SampleScaling& scaling = {});

/// Samples from a .npy(.gz) file (uint8 or float, N×H×W or N×C×H×W) with optional labels
/// from another .npy(.gz) (integers, N of them).
Dataset load_npy_dataset(const std::filesystem::path& samples, const std::optional<std::filesystem::path>& labels,
                         const SampleScaling& scaling = {});

/// The CLI's dataset argument: "fashion-mnist" or "fashion-mnist:DIR" (IDX, the given
/// split), or a path to a .npy(.gz) file (then `labels` may name the labels file).
Dataset open_dataset(const std::string& spec, const std::string& split,
                     const std::optional<std::filesystem::path>& labels = std::nullopt,
                     const SampleScaling& scaling = {});

/// Checks that the dataset's samples fit a model input of shape `input` (dims other than
/// the batch must match; dynamic dims match anything); throws naming both shapes.
void check_fits(const Dataset& dataset, const Shape& input);

} // namespace tern
