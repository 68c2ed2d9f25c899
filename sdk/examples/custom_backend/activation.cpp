#include "activation.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace naive {

namespace {

const char* const known[] = {"", "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "SiLU"};

} // namespace

std::string activation_support(const tern::Node& node) {
  const auto type = node.attr<std::string>("activation");
  if (std::find(std::begin(known), std::end(known), type) != std::end(known)) return {};
  return "backend 'naive' does not know the fused activation '" + type + "'";
}

std::function<float(float)> fused_activation(const tern::Node& node) {
  const auto type = node.attr<std::string>("activation");
  const auto alpha = static_cast<float>(node.attr<double>("activation_alpha"));
  const auto beta = static_cast<float>(node.attr<double>("activation_beta"));
  if (type.empty()) return [](float x) { return x; };
  if (type == "Relu") return [](float x) { return std::max(x, 0.0f); };
  if (type == "LeakyRelu") return [alpha](float x) { return x < 0 ? alpha * x : x; };
  if (type == "Clip") return [alpha, beta](float x) { return std::min(std::max(x, alpha), beta); };
  if (type == "Sigmoid") return [](float x) { return 1.0f / (1.0f + std::exp(-x)); };
  if (type == "HardSigmoid") return [alpha, beta](float x) { return std::clamp(alpha * x + beta, 0.0f, 1.0f); };
  if (type == "HardSwish") return [](float x) { return x * std::clamp(x / 6.0f + 0.5f, 0.0f, 1.0f); };
  if (type == "Tanh") return [](float x) { return std::tanh(x); };
  if (type == "SiLU") return [](float x) { return x / (1.0f + std::exp(-x)); };
  throw tern::Error("backend 'naive' does not know the fused activation '" + type + "'");
}

} // namespace naive
