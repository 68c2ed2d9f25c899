// Kernel rows: how input rules match a node's input dtypes, and how they read in messages.
#include <tern/error.hpp>
#include <tern/kernel.hpp>

namespace tern {

bool KernelInput::accepts(DataType type, std::span<const std::optional<DataType>> inputs) const {
  if ((types_ & bit(type)) == 0) return false;
  if (same_as_ < 0) return true;
  const auto index = static_cast<std::size_t>(same_as_);
  return index < inputs.size() && inputs[index] == type;
}

std::string KernelInput::describe() const {
  std::string text;
  if (same_as_ >= 0)
    text = "same as input " + std::to_string(same_as_);
  else if (types_ == all_types)
    text = "any";
  else
    for (unsigned i = 0; i <= static_cast<unsigned>(DataType::Bool); ++i)
      if (types_ & (1u << i)) text += (text.empty() ? "" : "|") + std::string(name(static_cast<DataType>(i)));
  if (optional_ && !repeated_) text = "[" + text + "]";
  return repeated_ ? text + "..." : text;
}

bool matches(const std::vector<KernelInput>& rules, std::span<const std::optional<DataType>> types) {
  if (rules.empty()) return types.empty();
  const std::size_t count = std::max(rules.size(), types.size());
  for (std::size_t i = 0; i < count; ++i) {
    const KernelInput* rule = i < rules.size() ? &rules[i] : (rules.back().is_repeated() ? &rules.back() : nullptr);
    if (rule == nullptr) return false; // more inputs than the row takes
    const bool present = i < types.size() && types[i].has_value();
    if (!present ? !rule->is_optional() : !rule->accepts(*types[i], types)) return false;
  }
  return true;
}

std::string describe(const std::vector<KernelInput>& rules) {
  std::string text = "(";
  for (std::size_t i = 0; i < rules.size(); ++i) text += (i ? ", " : "") + rules[i].describe();
  return text + ")";
}

std::string describe(std::span<const std::optional<DataType>> types) {
  std::string text = "(";
  for (std::size_t i = 0; i < types.size(); ++i)
    text += (i ? ", " : "") + (types[i] ? std::string(name(*types[i])) : std::string("-"));
  return text + ")";
}

KernelDef function_kernel(std::string op_type, std::vector<KernelInput> inputs, FunctionKernel::Fn fn,
                          KernelSupport supports) {
  return {std::move(op_type), std::move(inputs),
          [fn = std::move(fn)](const Node& node) { return std::make_unique<FunctionKernel>(node, fn); },
          std::move(supports)};
}

} // namespace tern
