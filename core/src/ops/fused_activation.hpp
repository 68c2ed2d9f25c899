#pragma once
/// \file fused_activation.hpp
/// Tern extension: Conv and Gemm may apply an activation to their result (what oneDNN
/// calls a post-op), set by the fuse_activations() recipe. Three attributes carry it:
/// `activation` (an op type, or "SiLU" for x * Sigmoid(x) (fuse_silu); "" = none),
/// `activation_alpha` and `activation_beta` (its parameters: LeakyRelu's alpha, Clip's min
/// and max, HardSigmoid's alpha and beta).

#include <tern/operator.hpp>

#include <string>
#include <vector>

namespace tern::detail {

/// The op types that may be fused: Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid,
/// HardSwish, Tanh.
const std::vector<std::string>& fusable_activations();
/// `attributes` plus activation (""), activation_alpha (0.0) and activation_beta (0.0).
std::vector<AttributeSpec> with_fused_activation(std::vector<AttributeSpec> attributes);
/// Fails unless the node's `activation` is "", one of fusable_activations() or "SiLU".
void check_fused_activation(const InferenceContext& ctx);

} // namespace tern::detail
