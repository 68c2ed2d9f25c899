#pragma once
/// \file schema_helpers.hpp
/// Helpers for writing operator schemas, shared by the built-in ones and plugins' own
/// (PluginContext::add_schema): attribute specs with ONNX defaults, error text
/// naming an input, dtype and rank checks, dimension arithmetic that keeps
/// Shape::dynamic and numpy broadcasting. (Sliding windows are public, <tern/window.hpp>,
/// so that backends compute what inference computes.) Every check fails through
/// ctx.fail(), so errors name the node.

#include <tern/operator.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tern::detail {

// --- attribute specs ------------------------------------------------------------------

inline AttributeSpec int_attr(std::string name, std::int64_t fallback) {
  return {std::move(name), AttributeType::Int, Attribute{fallback}, false};
}
inline AttributeSpec float_attr(std::string name, double fallback) {
  return {std::move(name), AttributeType::Float, Attribute{fallback}, false};
}
inline AttributeSpec string_attr(std::string name, std::string fallback) {
  return {std::move(name), AttributeType::String, Attribute{std::move(fallback)}, false};
}
/// An attribute without a default: absence means something the inference function
/// decides (e.g. pads whose ONNX default depends on the input rank).
inline AttributeSpec optional_attr(std::string name, AttributeType type) {
  return {std::move(name), type, std::nullopt, false};
}
inline AttributeSpec required_attr(std::string name, AttributeType type) {
  return {std::move(name), type, std::nullopt, true};
}

// --- text -----------------------------------------------------------------------------

/// "[1,2,3]": an int list (attribute or constant input) in error messages.
std::string ints_text(const std::vector<std::int64_t>& values);

// --- inputs ---------------------------------------------------------------------------

/// "input 1 ('w', float32[4,2,3,3])": how errors name an input, with its facts.
std::string describe_input(const InferenceContext& ctx, std::size_t i);
/// Input `i` must be float32 or float64 (operators ONNX defines on floats only).
void require_float(const InferenceContext& ctx, std::size_t i);
/// Input `i` must not be bool (arithmetic operators).
void require_numeric(const InferenceContext& ctx, std::size_t i);
/// Input `other` must have the dtype of input `reference`.
void require_same_dtype(const InferenceContext& ctx, std::size_t reference, std::size_t other);
/// Input `i` must have a rank in [low, high].
void require_rank(const InferenceContext& ctx, std::size_t i, std::size_t low, std::size_t high);
/// Input `i` must hold a single element (rank 0 or every dimension 1; dynamic is accepted).
void require_scalar(const InferenceContext& ctx, std::size_t i);
/// The constant data of 1-D int64 (or int32) input `i`, such as Reshape's shape or Pad's
/// pads; fails saying the input must be constant when its data is not known before running.
std::vector<std::int64_t> constant_ints(const InferenceContext& ctx, std::size_t i);

/// True when every present input among `inputs` has known data (a constant, or at run time
/// the actual tensor). Otherwise output 0's dims depend on values seen only when the node
/// runs: sets it to `rank` dynamic dims of `dtype` and returns false. The scheduler infers
/// the real shape from the actual tensors on every forward. A `rank` over 4096 (a declared
/// length, not data) fails instead.
bool shape_data_known(InferenceContext& ctx, std::initializer_list<std::size_t> inputs, std::size_t rank,
                      DataType dtype);

/// The static length of 1-D input `i` (how many values it holds); fails when dynamic.
std::size_t static_length(const InferenceContext& ctx, std::size_t i);

// --- dimensions -----------------------------------------------------------------------

// Sums and products of dimensions never wrap: on int64 overflow they fail through
// ctx.fail() with "<what>: <a> x <b> overflows int64" (tern::checked_mul's text), where
// `what` says which dimensions of what input are being combined.

/// a + b, dynamic when either is.
std::int64_t add_dims(const InferenceContext& ctx, std::int64_t a, std::int64_t b, const std::string& what);
/// a x b, dynamic when either is.
std::int64_t mul_dims(const InferenceContext& ctx, std::int64_t a, std::int64_t b, const std::string& what);
/// The product of `dims` (1 when empty), dynamic when any is.
std::int64_t product(const InferenceContext& ctx, std::span<const std::int64_t> dims, const std::string& what);
/// Normalises a possibly negative axis against `rank` (Python style). With `inclusive_end`,
/// axis == rank is allowed too (Flatten). Fails naming `what` ("attribute 'axis'").
std::size_t resolve_axis(const InferenceContext& ctx, const std::string& what, std::int64_t axis, std::size_t rank,
                         bool inclusive_end = false);
/// Each of `axes` normalised against `rank`, in order; fails on one out of range or
/// repeated. `source` names where the list comes from ("attribute 'axes'", an input).
std::vector<std::size_t> resolve_axes(const InferenceContext& ctx, const std::string& source,
                                      const std::vector<std::int64_t>& axes, std::size_t rank);

// --- broadcasting ---------------------------------------------------------------------

/// Numpy multidirectional broadcast of inputs `a` and `b`'s shapes. A dynamic dimension
/// against 1 stays dynamic; against a static n != 1 it becomes n (the only valid value).
Shape broadcast(const InferenceContext& ctx, std::size_t a, std::size_t b);
/// Numpy broadcast of two shapes; fails naming `what` (e.g. "the batch dimensions of A and B").
Shape broadcast(const InferenceContext& ctx, const Shape& a, const Shape& b, const std::string& what);
/// True when `from` broadcasts unidirectionally to `to` (Gemm's C). A dynamic dimension
/// on either side is accepted: it is checked when running.
bool broadcasts_to(const Shape& from, const Shape& to);

} // namespace tern::detail
