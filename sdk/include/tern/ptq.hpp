#pragma once
/// \file ptq.hpp
/// Post-training quantization, the seed tutorial's API in C++. The work is done by the
/// "ptq" pass plugin (libtern-ptq.so, loaded on first use); these functions set its options.
///
///     tern::ptq::auto_assign_node_precision(graph, DataType::Int8, DataType::Int8, DataType::Int32);
///     tern::ptq::quantize_network(graph, calibration, {.clipping_mode = tern::ptq::Clipping::MSE});
///     outputs = scheduler.forward({tern::ptq::scale_input(graph, images)});

#include <tern/dataset.hpp>
#include <tern/graph.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tern::ptq {

/// How activation ranges are clipped before quantization (the seed's Clipping, plus Percentile).
enum class Clipping { Max, MSE, AA, KL, Percentile };

/// "max", "mse", "aa", "kl", "percentile".
const char* name(Clipping mode);
/// The mode named `text` (case-insensitive); throws tern::Error listing the names.
Clipping parse_clipping(const std::string& text);

/// quantize_network's options: the seed's, with its meanings and defaults, then Tern's own.
struct QuantizeOptions {
  Clipping clipping_mode = Clipping::Max; ///< clipping of activation ranges
  bool no_quant = false;       ///< insert the scaling but no rounding: the float network, rescaled (debugging)
  bool optimize_signs = false; ///< values that are never negative use the unsigned range (one more bit)
  bool single_shift = false;   ///< power-of-two rescales (bit shifts), the rest folded into the weights
  bool use_cuda = false;       ///< ranges and histograms on the "cuda" backend; an error when it is unusable
  bool fold_graph = true;      ///< fold the weight quantizers into integer constants
  bool fake_quantize = false;  ///< keep float32 tensors holding integers instead of casting to integer types
  bool verbose = false;        ///< report ranges, clipping and scales per value through `log`
  bool per_channel = false;    ///< one weight scale per output channel instead of one per tensor
  double percentile = 99.99;   ///< the percentile for Clipping::Percentile
  bool keep_float = false;     ///< run nodes the PTQ cannot quantize in float instead of refusing the graph
  bool equalize = true;        ///< cross-layer equalisation (exact, but a ReLU6 inside a pair becomes ReLU)
  bool bias_correction = true; ///< correct biases for the mean error that rounding the weights causes
  /// 8-bit weights within ±63 (7 bits): int8 kernels of CPUs without VNNI (oneDNN's AVX2
  /// primitives, ONNX Runtime's u8s8 kernels) add pairs of products in 16 bits, which
  /// saturate on wider weights; within ±63 they never do, so those fast kernels are exact
  /// (oneDNN's for uint8 inputs: add optimize_signs).
  bool reduce_range = false;
  std::vector<std::string> backends{"cpu"};    ///< where calibration runs
  std::size_t batch_size = 64;                 ///< calibration batch size for a Dataset
  std::function<void(const std::string&)> log; ///< verbose lines; standard error when empty
  /// Called as each calibration batch is read, with its index and the number of batches
  /// (for a progress bar). The pipeline reads the set once per statistic it gathers
  /// (ranges, then histograms), so the index starts over at 0 for each.
  std::function<void(std::size_t index, std::size_t count)> progress;
};

/// Seconds per step, in the order the steps ran.
struct QuantizeReport {
  std::vector<std::pair<std::string, double>> seconds;
  double total_seconds() const;
};

/// Tags every node with "quantization.ptq.precision" (activations), and affine/merge nodes
/// with "quantization.ptq.weightprecision" and "quantization.ptq.accumulationprecision".
/// Nodes already tagged keep their tags (manual mixed precision). The accumulation must be
/// wider than the operands.
void auto_assign_node_precision(Graph& graph, DataType weight_precision, DataType activation_precision,
                                DataType bias_and_accumulation_precision);

/// The whole pipeline over a calibration set of input batches (one tensor per batch, as
/// the seed's list of tensors). The graph must have been tagged.
QuantizeReport quantize_network(Graph& graph, const std::vector<Tensor>& calibration_set,
                                const QuantizeOptions& options = {});
/// The same over a dataset's samples, in batches of options.batch_size.
QuantizeReport quantize_network(Graph& graph, const Dataset& calibration_set, const QuantizeOptions& options = {});

/// The steps of quantize_network, each callable alone (state travels in the graph's meta).
void prepare_network(Graph& graph, const QuantizeOptions& options = {});
void compute_ranges(Graph& graph, const std::vector<Tensor>& calibration_set, const QuantizeOptions& options = {});
void adjust_ranges(Graph& graph, const QuantizeOptions& options = {});
void quantize_normalized_network(Graph& graph, const QuantizeOptions& options = {});
/// Empirical bias correction (options.bias_correction): runs the quantized network over the
/// calibration set and shifts each affine node's bias so that its output's mean per channel
/// is the float network's; between quantize_normalized_network and fold_quantizers.
void correct_biases(Graph& graph, const std::vector<Tensor>& calibration_set, const QuantizeOptions& options = {});
void fold_quantizers(Graph& graph, const QuantizeOptions& options = {});
void cast_to_integer(Graph& graph, const QuantizeOptions& options = {});
/// The quantized graph in ONNX's QDQ form (QuantizeLinear/DequantizeLinear around float ops,
/// int8 weights, int32 biases) that integer runtimes fuse into their int8 kernels; it takes
/// the float input as it is (its first QuantizeLinear does the input scaling), so it is no
/// longer is_quantized(). Takes the graph quantize_network made (each quantizer carries its
/// real step); throws for one read back from a file, which has lost them.
void to_qdq(Graph& graph, const QuantizeOptions& options = {});
/// True when the graph holds QuantizeLinear or DequantizeLinear nodes (a QDQ model).
bool is_qdq(const Graph& graph);
/// A QDQ model (tern quantize --format qdq's, ONNX Runtime's quantize_static's) onto integer
/// kernels: each Conv/Gemm/MatMul, Add, Relu/Clip, MaxPool, Concat and reshaping op between
/// DequantizeLinear inputs and a QuantizeLinear output computes on the file's integers (zero
/// points folded into biases); the rest stays float between them, as the file defines it.
void qdq_to_integer(Graph& graph);

/// One quantized node in the per-layer quality report (docs/REPORT.md).
struct NodeQuality {
  std::string node, op, precision;
  /// SQNR in dB of the node's output against float over the calibration set: with only this
  /// node quantized (its weights and its output; its inputs float), and in the whole
  /// quantized network.
  double sqnr_alone_db = 0.0, sqnr_network_db = 0.0;
  double range_min = 0.0, range_max = 0.0, clip = 0.0, scale = 0.0;
  std::int64_t macs = 0, parameters = 0;
  std::vector<double> histogram; ///< calibration histogram of |output|, bins of bin_width
  double bin_width = 0.0;
};

/// Measures every quantized node of `quantized`, what quantize_network made of `float_model`
/// with `options` (fake_quantize: the form tern quantize saves), on the calibration set.
std::vector<NodeQuality> measure_quality(const Graph& float_model, const Graph& quantized, const Dataset& calibration,
                                         const QuantizeOptions& options = {});
/// Writes them as the JSON report docs/REPORT.md describes (what tern explore --report draws).
void write_quality_report(const std::vector<NodeQuality>& nodes, const std::string& model,
                          const std::filesystem::path& path);

/// AdaRound's settings (Nagel et al. 2020, "Up or Down? Adaptive Rounding for Post-Training
/// Quantization"), the paper's defaults.
struct AdaRoundOptions {
  int iterations = 2000;                    ///< Adam steps per layer
  double regularization = 0.01;             ///< λ, the weight of the term that pushes h(V) to 0 or 1
  double beta_start = 20.0, beta_end = 2.0; ///< the regulariser's exponent, annealed
  double warmup = 0.2;                      ///< fraction of the steps without the regulariser
  double learning_rate = 1e-3;              ///< Adam's
  unsigned seed = 0;                        ///< which calibration positions are sampled
  std::function<void(std::size_t done, std::size_t total)> progress; ///< after each layer
};

/// Re-decides, layer by layer, whether each quantized weight of `quantized` (the
/// fake-quantized form quantize_network makes of `float_model` with `options`,
/// QuantizeOptions::fake_quantize = true, fold_graph = true) rounds up or down, minimising
/// that layer's output reconstruction error on the calibration set (float inputs). Where
/// the PTQ corrected biases, the error is measured about its mean and the bias follows the
/// new rounding. Returns the number of layers optimised.
std::size_t adaround(const Graph& float_model, Graph& quantized, const Dataset& calibration,
                     const QuantizeOptions& options = {}, const AdaRoundOptions& ada = {});

/// The SQNR in dB of the quantized network's outputs against the float model's over a
/// dataset (all outputs together).
double output_sqnr_db(const Graph& float_model, const Graph& quantized, const Dataset& data,
                      const QuantizeOptions& options = {});

/// Precisions of one node (what auto_assign_node_precision tags).
struct Precisions {
  DataType weights = DataType::Int8, activations = DataType::Int8, accumulation = DataType::Int32;
};

/// What mixed-precision search decided.
struct MixedPrecision {
  std::vector<std::string> promoted; ///< nodes raised to the high precisions, in the order chosen
  double mac_fraction = 0.0;         ///< their share of the network's MACs
  double sqnr_low_db = 0.0;          ///< output SQNR with every node at the low precisions
  double sqnr_db = 0.0;              ///< output SQNR with the promoted nodes
};

/// Automatic mixed precision: quantizes the float, untagged `graph` at `low`; ranks its
/// nodes by their SQNR when quantized alone (measure_quality: the most sensitive first);
/// tries to promote each to `high` in that order, keeping a promotion only if the network
/// output's SQNR improves and the promoted MACs stay within `budget` (a fraction of the
/// network's). `graph` ends quantized with the nodes chosen.
MixedPrecision quantize_mixed_precision(Graph& graph, const Dataset& calibration, Precisions low, Precisions high,
                                        double budget, const QuantizeOptions& options = {});

/// Whether `graph` came out of quantize_network (and so wants scale_input).
bool is_quantized(const Graph& graph);
/// How a quantized graph wants its float input prepared: x · scale (2^(n-1)-1, the seed's
/// scaling), clamped to ±limit, rounded half to even when `round`.
struct InputScaling {
  float scale = 1.0f;
  float limit = 0.0f;
  bool round = false;
};
/// The scaling quantize_network recorded in `graph` (throws when it is not quantized).
InputScaling input_scaling(const Graph& graph);
/// The input a quantized graph expects (see InputScaling); `input` itself for a graph that
/// is not quantized.
Tensor scale_input(const Graph& graph, const Tensor& input);
/// Whether `graph` was saved by `tern quantize --fake` (or --no-quant): its user asked for
/// float execution only, so integer deployment (tern export) refuses it.
bool is_float_only(const Graph& graph);
/// Records that (tern quantize --fake does, before saving).
void mark_float_only(Graph& graph);

} // namespace tern::ptq
