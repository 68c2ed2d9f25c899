#pragma once
// The explorer's drawing: a graph's facts as Graphviz DOT, laid out by Graphviz's `dot`
// program into SVG.

#include <nlohmann/json.hpp>

#include <string>

namespace tern::explore_page {

/// DOT for graph `index` of the page: one box per node (id "g<index>-n<i>", i its place in
/// facts["nodes"]), coloured by precision, quantizers dashed; graph inputs and outputs as
/// ellipses; edges labelled with dtype and shape.
std::string to_dot(const nlohmann::json& facts, int index);

/// `dot` laid out as SVG (the <svg> element only). Runs TERN_DOT or `dot` from the PATH;
/// throws tern::Error when it is missing or fails, with its first line of error output.
std::string render_svg(const std::string& dot);

} // namespace tern::explore_page
