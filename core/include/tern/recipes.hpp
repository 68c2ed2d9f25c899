#pragma once
/// \file recipes.hpp
/// Graph recipes: rewrites that keep the graph's results (up to float rounding).

#include <tern/graph.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace tern {

/// Removes Flatten nodes where that is safe (the seed's `remove_flatten`): a Flatten that
/// changes nothing (input already [N, K] with axis 1), and a Flatten(axis=1) whose every
/// reader is the A input of a Gemm (Tern's Gemm flattens a rank>2 A itself, like
/// AIDGE's FC). A Flatten producing a graph output is kept. Returns how many were removed.
std::size_t remove_flatten(Graph& graph);

/// Folds BatchNormalization into the preceding Conv or Gemm when the BN is that node's only
/// reader and the weights (and bias, scale, B, mean, var) are constants. The Conv/Gemm gets
/// new constants and a bias; the BN disappears. Returns how many were folded.
std::size_t fold_batchnorm(Graph& graph);

/// Replaces every node whose inputs are all constants by constants computed with the first
/// backend of `backends` that has a kernel for it (a node no backend can run is left as
/// it is). Chains fold completely: nodes are visited in topological order. Returns how
/// many nodes were folded.
std::size_t fold_constants(Graph& graph, const std::vector<std::string>& backends);

} // namespace tern
