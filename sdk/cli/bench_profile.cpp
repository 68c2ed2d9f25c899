#include "bench_profile.hpp"

#include <algorithm>
#include <iomanip>
#include <map>

namespace tern::cli {
namespace {

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::ranges::nth_element(values, values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2));
  return values[values.size() / 2];
}

/// "int8[64,16,28,28]" for each value, comma-separated.
std::string types_of(const std::vector<Value*>& values) {
  std::string text;
  for (const Value* value : values)
    if (value && !value->constant())
      text += (text.empty() ? "" : ", ") + std::string(name(value->dtype())) + value->shape().to_string();
  return text;
}

} // namespace

void print_profile(SequentialScheduler& scheduler, const std::vector<Tensor>& inputs, std::size_t runs, Output& out) {
  scheduler.set_profiling(true);
  for (std::size_t run = 0; run < runs; ++run) (void)scheduler.forward(inputs);
  scheduler.set_profiling(false);
  const std::vector<StepProfile> profile = scheduler.profile();

  std::vector<double> medians;
  for (const StepProfile& step : profile) medians.push_back(median(step.seconds));
  double total = 0;
  for (const double time : medians) total += time;
  const auto share = [&](double time) { return total > 0 ? time / total : 0.0; };

  out.text() << "\nProfile: median of " << runs << " passes per step, " << std::fixed << std::setprecision(3)
             << 1e3 * total << " ms in all (graph inputs are at the batch above; fused steps run inside the next)\n";
  out.text() << "  step  share    ms      node (op) on backend [implementation: oneDNN primitives]  in -> out\n";
  nlohmann::json steps = nlohmann::json::array();
  std::map<std::string, std::pair<double, int>> by_op; // op type -> (time, steps)
  for (std::size_t i = 0; i < profile.size(); ++i) {
    const PlanStep& step = *profile[i].step;
    const std::string implementation =
        step.implementation + (profile[i].detail.empty() ? "" : ": " + profile[i].detail);
    out.text() << "  " << std::setw(4) << i << std::setw(6) << std::setprecision(1) << 100 * share(medians[i]) << "%"
               << std::setw(8) << std::setprecision(3) << 1e3 * medians[i] << "  " << step.node->name() << " ("
               << step.node->op_type() << ") on " << step.backend << " ["
               << (profile[i].fused_into_next ? "fused into the next step" : implementation) << "]  "
               << types_of(step.node->inputs()) << " -> " << types_of(step.node->outputs()) << "\n";
    // A fused pair's time counts under both ops ("Conv+MaxPool"), where it was spent.
    if (!profile[i].fused_into_next) {
      const bool runs_fused = i > 0 && profile[i - 1].fused_into_next;
      auto& [time, count] =
          by_op[(runs_fused ? profile[i - 1].step->node->op_type() + "+" : std::string()) + step.node->op_type()];
      time += medians[i];
      ++count;
    }
    steps.push_back({{"step", i},
                     {"node", step.node->name()},
                     {"op", step.node->op_type()},
                     {"backend", step.backend},
                     {"implementation", step.implementation},
                     {"detail", profile[i].detail},
                     {"fused_into_next", profile[i].fused_into_next},
                     {"inputs", types_of(step.node->inputs())},
                     {"outputs", types_of(step.node->outputs())},
                     {"median_seconds", medians[i]},
                     {"share", share(medians[i])}});
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> ops(by_op.begin(), by_op.end());
  std::ranges::sort(ops, [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  out.text() << "By op type:\n";
  nlohmann::json op_summary = nlohmann::json::array();
  int width = 20; // the longest name's ("GlobalAveragePoolChannelsLast") where one is longer
  for (const auto& entry : ops) width = std::max(width, static_cast<int>(entry.first.size()));
  for (const auto& [op, entry] : ops) {
    out.text() << "  " << std::left << std::setw(width) << op << std::right << std::setw(6) << std::setprecision(1)
               << 100 * share(entry.first) << "%" << std::setw(9) << std::setprecision(3) << 1e3 * entry.first
               << " ms in " << entry.second << " step(s)\n";
    op_summary.push_back(
        {{"op", op}, {"steps", entry.second}, {"median_seconds", entry.first}, {"share", share(entry.first)}});
  }
  out.result()["profile"] = {{"runs", runs}, {"total_seconds", total}, {"steps", steps}, {"ops", op_summary}};
}

} // namespace tern::cli
