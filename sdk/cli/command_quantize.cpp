#include "cli_common.hpp"

#include <tern/explore.hpp>
#include <tern/model_format.hpp>
#include <tern/ptq.hpp>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <iostream>

namespace tern::cli {
namespace {

namespace fs = std::filesystem;

DataType precision_argument(const po::variables_map& args, const char* option) {
  const std::string text = args[option].as<std::string>();
  const auto type = parse_data_type(text);
  check(type.has_value(), [&] {
    return std::string("--") + option + ": '" + text + "' is not a data type (int8, uint8, int4, uint4, int16, int32)";
  });
  return *type;
}

ptq::QuantizeOptions quantize_options(const po::variables_map& args, std::vector<std::string> backends) {
  ptq::QuantizeOptions options;
  options.clipping_mode = ptq::parse_clipping(args["clipping"].as<std::string>());
  options.percentile = args["percentile"].as<double>();
  options.no_quant = args.count("no-quant") > 0;
  options.optimize_signs = args.count("optimize-signs") > 0;
  options.single_shift = args.count("single-shift") > 0;
  options.use_cuda = args.count("use-cuda") > 0;
  options.fold_graph = args.count("no-fold") == 0;
  options.per_channel = args.count("per-channel") > 0;
  options.keep_float = args.count("keep-float") > 0;
  options.equalize = args.count("no-equalize") == 0;
  options.bias_correction = args.count("no-bias-correction") == 0;
  options.reduce_range = args.count("reduce-range") > 0;
  options.verbose = args.count("verbose") > 0;
  options.backends = std::move(backends);
  // The pipeline always ends fake-quantized: that form is what is saved (standard ONNX
  // operators); the integer graph is derived from it with cast_to_integer below.
  options.fake_quantize = true;
  return options;
}

/// Float accuracy of the model as loaded for inference, on `dataset`.
double float_accuracy(const std::string& path, const Dataset& dataset, const std::vector<std::string>& backends) {
  const Graph graph = load_for_inference(path);
  SequentialScheduler scheduler(graph, backends);
  return measure_accuracy(graph, scheduler, dataset, 64, path).fraction();
}

/// --explore DIR: the tutorial's before/after pictures, the model as loaded and the quantized
/// graph that runs (integer unless --fake), whose meta holds the calibration ranges, clips and
/// histograms the page shows.
void draw_before_after(const Graph& as_loaded, const Graph& quantized, const std::string& path, const fs::path& folder,
                       const std::vector<std::string>& backends, const std::optional<std::string>& report,
                       Output& out) {
  std::error_code error;
  fs::create_directories(folder, error);
  check(!error,
        [&] { return "--explore " + folder.string() + ": cannot create the folder (" + error.message() + ")"; });
  const std::string name = fs::path(path).filename().string();
  ExploreOptions options;
  options.backends = backends;
  options.title = name + " before PTQ";
  explore({{&as_loaded, name, fs::file_size(path)}}, folder / "before.html", options);
  options.title = name + " after PTQ";
  if (report) options.report = *report;
  explore({{&quantized, name + " quantized", std::nullopt}}, folder / "after.html", options);
  out.text() << "Drew the model before and after PTQ: " << (folder / "before.html").string() << " and "
             << (folder / "after.html").string() << " (open them in a browser).\n";
}

/// --mixed-precision: the most sensitive nodes promoted to 8 bits within --mixed-budget of
/// the MACs (ptq::quantize_mixed_precision); says which and what it bought. Returns seconds.
double mixed_precision(Graph& graph, const Dataset& calibration, const ptq::Precisions& low,
                       const po::variables_map& args, const ptq::QuantizeOptions& options, Output& out) {
  check(info(low.weights).bits < 8 || info(low.activations).bits < 8,
        "--mixed-precision promotes nodes to 8 bits: ask for fewer bits (--weights int4 --activations int4)");
  check(!options.no_quant, "--mixed-precision quantizes: it cannot go with --no-quant");
  const double budget = args["mixed-budget"].as<double>();
  const auto start = std::chrono::steady_clock::now();
  const ptq::MixedPrecision mixed = ptq::quantize_mixed_precision(
      graph, calibration, low, {DataType::Int8, DataType::Int8, DataType::Int32}, budget, options);
  out.text() << "Mixed precision: " << mixed.promoted.size() << " node(s) promoted to 8 bits, " << std::fixed
             << std::setprecision(1) << 100.0 * mixed.mac_fraction << "% of the MACs (budget " << 100.0 * budget
             << "%); output SQNR " << mixed.sqnr_low_db << " dB -> " << mixed.sqnr_db << " dB\n";
  for (const std::string& node : mixed.promoted) out.text() << "  " << node << "\n";
  out.result()["mixed_precision"] = {{"promoted", mixed.promoted},
                                     {"mac_fraction", mixed.mac_fraction},
                                     {"sqnr_low_db", mixed.sqnr_low_db},
                                     {"sqnr_db", mixed.sqnr_db}};
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// --report FILE: each quantized node's SQNR against float (alone and in the network) and
/// its facts, as JSON (docs/REPORT.md); the 10 worst printed.
void write_report(const Graph& as_loaded, const Graph& quantized, const Dataset& calibration,
                  const ptq::QuantizeOptions& options, const std::string& model, const std::string& file, Output& out) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<ptq::NodeQuality> nodes = ptq::measure_quality(as_loaded, quantized, calibration, options);
  ptq::write_quality_report(nodes, fs::path(model).filename().string(), file);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(nodes.begin(), nodes.end(),
            [](const ptq::NodeQuality& a, const ptq::NodeQuality& b) { return a.sqnr_network_db < b.sqnr_network_db; });
  out.text() << "Wrote " << file << ": SQNR of " << nodes.size() << " quantized nodes against float over the "
             << calibration.size() << " calibration samples (" << std::fixed << std::setprecision(1) << seconds
             << " s). The " << std::min<std::size_t>(nodes.size(), 10) << " worst in the network:\n"
             << "  " << std::left << std::setw(44) << "node" << std::setw(20) << "op" << std::setw(10) << "precision"
             << std::right << std::setw(12) << "alone dB" << std::setw(12) << "network dB" << std::setw(12) << "MACs"
             << "\n";
  for (std::size_t i = 0; i < std::min<std::size_t>(nodes.size(), 10); ++i) {
    const ptq::NodeQuality& n = nodes[i];
    std::string name = n.node.size() > 42 ? "..." + n.node.substr(n.node.size() - 39) : n.node;
    out.text() << "  " << std::left << std::setw(44) << name << std::setw(20) << n.op << std::setw(10) << n.precision
               << std::right << std::setw(12) << n.sqnr_alone_db << std::setw(12) << n.sqnr_network_db << std::setw(12)
               << n.macs << "\n";
  }
  out.text() << "  (alone: only that node quantized; network: everything quantized. A node far below the others "
                "is where accuracy goes: try --per-channel or another --clipping, or draw it with tern explore "
             << "--report " << file << ")\n";
}

void check_whole_batches(std::size_t samples, std::size_t batch, const char* option) {
  check(samples % batch == 0, [&] {
    return std::string(option) + ": " + std::to_string(samples) + " samples do not make whole batches of " +
           std::to_string(batch) + ", the batch the model's input fixes (its first dimension): give a multiple of it";
  });
}

int quantize(const po::variables_map& args, Output& out) {
  const std::string path = model_argument(args);
  check(args.count("output") == 1, "tern quantize needs -o OUT.onnx (the input model is never modified)");
  const std::string output = args["output"].as<std::string>();
  check(!std::filesystem::exists(output) || !std::filesystem::equivalent(path, output), [&] {
    return "-o " + output + " is the input model itself: choose another file (the input model is never modified)";
  });
  const std::vector<std::string> backends = prepare_backends(args);
  ptq::QuantizeOptions options = quantize_options(args, backends);
  options.log = [&out](const std::string& line) { out.text() << line << "\n"; };
  const bool fake = args.count("fake") > 0 || options.no_quant;
  const std::string format = args["format"].as<std::string>();
  check(format == "fake" || format == "qdq", [&] { return "--format " + format + ": expected fake or qdq"; });
  check(format == "fake" || !fake, "--format qdq writes the integer network: it cannot go with --fake or --no-quant");
  check(args.count("reduce-range") == 0 || args.count("full-range") == 0,
        "--reduce-range and --full-range contradict each other: give one");
  check(args.count("full-range") == 0 || format == "qdq",
        "--full-range goes with --format qdq (Tern's own form uses all of ±127 unless --reduce-range)");
  // A QDQ file runs on runtimes Tern does not know: 7-bit weights keep the u8 x s8 int16
  // pair sums of x86 CPUs without VNNI exact (what ONNX Runtime's reduce_range is for).
  const bool qdq_reduces = format == "qdq" && args.count("full-range") == 0;
  options.reduce_range = options.reduce_range || qdq_reduces;

  Graph graph = load_model(path);
  apply_input_shapes(graph, args);
  std::optional<Graph> as_loaded; // for --explore, --report and --adaround
  const bool adaround = args.count("adaround") > 0;
  check(!adaround || !options.no_quant, "--adaround re-rounds quantized weights: it cannot go with --no-quant");
  check(!adaround || options.fold_graph, "--adaround re-rounds folded integer weights: it cannot go with --no-fold");
  if (args.count("explore") || args.count("report") || adaround) as_loaded = graph.clone();
  check(graph.inputs().size() == 1, [&] {
    return path + ": tern quantize needs a model with one input, it has " + std::to_string(graph.inputs().size());
  });
  const auto calibration_size = args["calib-size"].as<std::size_t>();
  check(calibration_size > 0, "--calib-size must be positive");
  const Dataset calibration =
      open_dataset(args["calib"].as<std::string>(), args["calib-split"].as<std::string>()).first(calibration_size);
  check_fits(calibration, graph.inputs()[0]->shape());
  // A batch the model fixes (or --input-shape does) is the batch every pass runs.
  const std::int64_t fixed = graph.inputs()[0]->shape()[0];
  const std::size_t batch = fixed > 0 ? static_cast<std::size_t>(fixed) : 64;
  if (fixed > 0) check_whole_batches(calibration.size(), batch, "--calib-size");
  options.batch_size = batch;

  const ptq::Precisions low{precision_argument(args, "weights"), precision_argument(args, "activations"),
                            precision_argument(args, "accumulation")};
  if (options.verbose) out.text() << "Quantizing " << path << " (per-value report):\n";
  ptq::QuantizeReport report;
  if (args.count("mixed-precision")) {
    report.seconds.emplace_back("mixed_precision", mixed_precision(graph, calibration, low, args, options, out));
  } else {
    ptq::auto_assign_node_precision(graph, low.weights, low.activations, low.accumulation);
    report = ptq::quantize_network(graph, calibration, options);
  }
  if (adaround) {
    ptq::AdaRoundOptions ada;
    ada.iterations = args["adaround-iterations"].as<int>();
    check(ada.iterations > 0, "--adaround-iterations must be positive");
    const auto start = std::chrono::steady_clock::now();
    const std::size_t layers = ptq::adaround(*as_loaded, graph, calibration, options, ada);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.seconds.emplace_back("adaround", seconds);
    out.text() << "AdaRound: " << layers << " layers re-rounded in " << std::fixed << std::setprecision(1) << seconds
               << " s\n";
  }
  Graph runnable = graph.clone();
  if (!fake) {
    const auto start = std::chrono::steady_clock::now();
    ptq::cast_to_integer(runnable, options);
    prepare_for_inference(runnable);
    report.seconds.emplace_back("cast_to_integer",
                                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (fake) ptq::mark_float_only(graph); // tern export refuses it: the user asked for float execution
  if (format == "qdq") {
    Graph qdq = graph.clone();
    ptq::to_qdq(qdq, options);
    save_model(qdq, output);
  } else {
    save_model(graph, output);
  }

  nlohmann::json seconds = nlohmann::json::object();
  out.text() << "Quantized " << path << " with " << calibration.size() << " calibration samples from "
             << calibration.description() << " (" << args["weights"].as<std::string>() << " weights, "
             << args["activations"].as<std::string>() << " activations, " << args["accumulation"].as<std::string>()
             << " accumulation, " << ptq::name(options.clipping_mode) << " clipping, "
             << (fake ? "fake-quantized float32" : "integer execution") << "):\n";
  for (const auto& [step, time] : report.seconds) {
    out.text() << "  " << std::left << std::setw(18) << step << std::right << std::fixed << std::setprecision(3) << time
               << " s\n";
    seconds[step] = time;
  }
  if (format == "qdq")
    out.text() << "Saved " << output << ": QDQ form (QuantizeLinear/DequantizeLinear, int8 weights, int32 biases),\n"
               << "  which ONNX Runtime and other integer runtimes run on their int8 kernels; it takes the float\n"
               << "  input as it is (its first QuantizeLinear scales it).\n"
               << (qdq_reduces ? "  Its 8-bit weights stay within ±63, exact on x86 int8 kernels without VNNI (AVX2);\n"
                                 "  --full-range uses all of ±127 for runtimes on VNNI, ARM or GPUs.\n"
                               : "");
  else
    out.text() << "Saved " << output << ": standard ONNX operators (fake-quantized form, runs in ONNX Runtime);\n"
               << "  inputs are scaled for it automatically by tern eval/run (tern::ptq::scale_input).\n";
  std::optional<std::string> report_path;
  if (args.count("report")) {
    report_path = args["report"].as<std::string>();
    write_report(*as_loaded, graph, calibration, options, path, *report_path, out);
  }
  if (args.count("explore"))
    draw_before_after(*as_loaded, runnable, path, args["explore"].as<std::string>(), backends, report_path, out);
  out.result().update(nlohmann::json{{"model", path},
                                     {"output", output},
                                     {"calibration_samples", calibration.size()},
                                     {"seconds", seconds},
                                     {"integer", !fake},
                                     {"clipping", ptq::name(options.clipping_mode)},
                                     {"weights", args["weights"].as<std::string>()},
                                     {"activations", args["activations"].as<std::string>()}});
  if (report_path) out.result()["report"] = *report_path;

  if (args.count("eval") == 0) {
    out.text() << "Next: add --eval fashion-mnist to compare float and quantized accuracy.\n";
    return 0;
  }
  Dataset evaluation = open_dataset(args["eval"].as<std::string>(), "test");
  check(evaluation.has_labels(), [&] { return "--eval " + evaluation.description() + " has no labels"; });
  if (const auto limit = args["eval-limit"].as<std::size_t>(); limit > 0) evaluation = evaluation.first(limit);
  const double before = float_accuracy(path, evaluation, backends);
  SequentialScheduler scheduler(runnable, backends);
  if (fixed > 0) check_whole_batches(evaluation.size(), batch, "--eval-limit");
  const double after = measure_accuracy(runnable, scheduler, evaluation, batch, output).fraction();
  out.text() << std::fixed << std::setprecision(2) << "Top-1 on " << evaluation.size() << " images of "
             << evaluation.description() << ": float " << 100 * before << "%, quantized " << 100 * after << "% (drop "
             << 100 * (before - after) << " points)\n";
  out.result()["float_accuracy"] = before;
  out.result()["quantized_accuracy"] = after;
  out.result()["eval_samples"] = evaluation.size();
  return 0;
}

} // namespace

Command quantize_command() {
  return {
      "quantize", "post-training quantization of a model over a calibration set (the seed's quantize_network)", "model",
      [](po::options_description& options) {
        options.add_options()("model", po::value<std::vector<std::string>>(), "model file (.onnx)")(
            "output,o", po::value<std::string>(), "where to save the quantized model (.onnx)")(
            "format", po::value<std::string>()->default_value("fake"),
            "fake (Tern's form: Mul/Round/Clip, run with --integer) or qdq (QuantizeLinear/DequantizeLinear for "
            "ONNX Runtime and other integer runtimes)")("calib",
                                                        po::value<std::string>()->default_value("fashion-mnist"),
                                                        "calibration dataset (as tern eval --dataset)")(
            "calib-split", po::value<std::string>()->default_value("train"), "split of the calibration dataset")(
            "calib-size", po::value<std::size_t>()->default_value(100), "calibration samples (the first N)")(
            "weights", po::value<std::string>()->default_value("int8"), "weight precision: int8, int4, ...")(
            "activations", po::value<std::string>()->default_value("int8"), "activation precision: int8, int4, ...")(
            "accumulation", po::value<std::string>()->default_value("int32"),
            "bias and accumulation precision: int32, int16")("clipping", po::value<std::string>()->default_value("mse"),
                                                             "max, mse, aa, kl or percentile")(
            "percentile", po::value<double>()->default_value(99.99),
            "for --clipping percentile")("optimize-signs", "unsigned ranges for values that are never negative")(
            "single-shift", "power-of-two rescales (bit shifts), the rest folded into the weights")(
            "per-channel", "one weight scale per output channel")(
            "fake", "keep the quantized network in float32 (fake quantization)")("no-fold",
                                                                                 "keep the weight quantizers as nodes")(
            "no-quant", "insert the scaling but no rounding (debugging: should equal float accuracy)")(
            "use-cuda", "ranges and histograms on the cuda backend")(
            "keep-float", "run nodes the PTQ cannot quantize in float instead of refusing the model")(
            "no-equalize", "skip cross-layer equalisation of weight ranges")(
            "no-bias-correction", "skip correcting biases for the mean weight rounding error")(
            "reduce-range", "8-bit weights within ±63: on CPUs without VNNI (AVX2), with --optimize-signs, "
                            "integer Conv/Gemm run on oneDNN's fast int8 kernels, and ONNX Runtime's fused "
                            "kernels stay exact (its reduce_range); the default with --format qdq")(
            "full-range", "8-bit weights within ±127 with --format qdq too (runtimes with VNNI, ARM, GPUs)")(
            "verbose", "per-value ranges, clipping and scales")(
            "eval", po::value<std::string>(), "measure float and quantized accuracy on this dataset's test split")(
            "eval-limit", po::value<std::size_t>()->default_value(0), "evaluate only the first N samples (0: all)")(
            "explore", po::value<std::string>(), "also write DIR/before.html and DIR/after.html (tern explore pages)")(
            "mixed-precision", "promote the most sensitive nodes to 8 bits (int8/int8/int32) within --mixed-budget")(
            "mixed-budget", po::value<double>()->default_value(0.25),
            "fraction of the MACs --mixed-precision may promote")(
            "report", po::value<std::string>(),
            "write each quantized node's SQNR against float (alone, in the network) as JSON (docs/REPORT.md)")(
            "adaround", "learn whether each weight rounds up or down per layer (AdaRound, Nagel et al. 2020)")(
            "adaround-iterations", po::value<int>()->default_value(2000), "AdaRound's optimisation steps per layer");
        add_backend_options(options);
        add_input_shape_option(options);
      },
      quantize};
}

} // namespace tern::cli
