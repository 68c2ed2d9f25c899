#pragma once
// What Tern does before libonnx's shape inference sees a model. Several of libonnx 1.12's
// inference functions trust the input they are given: a Conv or pool with strides 0
// divides by zero (SIGFPE), and a convolution whose weights have more axes than its data
// input reads dimensions past the end of a protobuf list (SIGSEGV). Neither can be caught,
// so such input must never reach them.

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tern::onnx_plugin {

/// Refuses (tern::Error, naming the node) window attributes below 1: strides, dilations,
/// kernel_shape, group, blocksize. Walks subgraphs and model-local functions too.
void check_window_attributes(const onnx::ModelProto& model);

/// Value dimensions, every one a number.
using KnownShapes = std::map<std::string, std::vector<std::int64_t>>;

/// Makes `copy` (a copy made for inference only) safe for libonnx: every convolution
/// whose kernel size would be taken from its weights gets an explicit kernel_shape from
/// the weights' shape (an initializer's, a declared input's, or one in `known`), which
/// libonnx then checks against the data input's rank; where the weights' shape is not
/// known, the node is renamed to an op libonnx does not know, so inference skips it (its
/// outputs stay unknown; Tern's own shape inference checks the node when it builds the
/// graph). Returns the number of nodes so hidden.
std::size_t guard_convolutions(onnx::ModelProto& copy, const KnownShapes& known);

} // namespace tern::onnx_plugin
