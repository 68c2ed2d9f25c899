#include "fused_activation.hpp"

#include <tern/schema_helpers.hpp>

#include <algorithm>

namespace tern::detail {

const std::vector<std::string>& fusable_activations() {
  // The activations oneDNN applies as eltwise post-ops with at most two parameters.
  static const std::vector<std::string> types{"Relu",        "LeakyRelu", "Clip", "Sigmoid",
                                              "HardSigmoid", "HardSwish", "Tanh"};
  return types;
}

std::vector<AttributeSpec> with_fused_activation(std::vector<AttributeSpec> attributes) {
  attributes.push_back(string_attr("activation", ""));
  attributes.push_back(float_attr("activation_alpha", 0.0));
  attributes.push_back(float_attr("activation_beta", 0.0));
  return attributes;
}

void check_fused_activation(const InferenceContext& ctx) {
  const auto activation = ctx.attr<std::string>("activation");
  static const std::vector<std::string> known = [] {
    std::vector<std::string> types = fusable_activations();
    types.emplace_back("SiLU"); // x * Sigmoid(x), folded from two nodes by fuse_silu
    return types;
  }();
  if (activation.empty() || std::find(known.begin(), known.end(), activation) != known.end()) return;
  std::string list;
  for (const std::string& type : known) list += (list.empty() ? "" : ", ") + type;
  ctx.fail("attribute 'activation' is '" + activation + "'; expected \"\" (none) or one of " + list);
}

} // namespace tern::detail
