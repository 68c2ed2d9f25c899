// Models: loaded from a file once and prepared for inference, then compiled by runtimes.
#include "handles.hpp"

using tern::capi::guard;
using tern::capi::require;

TERN_C_EXPORT tern_status tern_model_load(const char* path, tern_model** model) {
  return guard(TERN_LOAD_FAILED, [&] {
    require(path != nullptr && model != nullptr, "tern_model_load: path and model must not be NULL");
    *model = new tern_model{tern::load_for_inference(path)};
  });
}

TERN_C_EXPORT void tern_model_free(tern_model* model) { delete model; }

TERN_C_EXPORT size_t tern_model_input_count(const tern_model* model) {
  return model ? model->graph.inputs().size() : 0;
}

TERN_C_EXPORT size_t tern_model_output_count(const tern_model* model) {
  return model ? model->graph.outputs().size() : 0;
}

TERN_C_EXPORT const char* tern_model_input_name(const tern_model* model, size_t index) {
  return model && index < model->graph.inputs().size() ? model->graph.inputs()[index]->name().c_str() : nullptr;
}

TERN_C_EXPORT const char* tern_model_output_name(const tern_model* model, size_t index) {
  return model && index < model->graph.outputs().size() ? model->graph.outputs()[index]->name().c_str() : nullptr;
}

namespace {

/// Graph input `index`, or nullptr.
const tern::Value* input_of(const tern_model* model, size_t index) {
  return model && index < model->graph.inputs().size() ? model->graph.inputs()[index] : nullptr;
}

} // namespace

TERN_C_EXPORT tern_dtype tern_model_input_dtype(const tern_model* model, size_t index) {
  const tern::Value* input = input_of(model, index);
  return input ? static_cast<tern_dtype>(input->dtype()) : TERN_FLOAT32;
}

TERN_C_EXPORT size_t tern_model_input_rank(const tern_model* model, size_t index) {
  const tern::Value* input = input_of(model, index);
  return input ? input->shape().rank() : 0;
}

TERN_C_EXPORT int64_t tern_model_input_dim(const tern_model* model, size_t index, size_t axis) {
  const tern::Value* input = input_of(model, index);
  // Shape::dynamic is -1, the documented value for a free dimension.
  return input && axis < input->shape().rank() ? input->shape()[axis] : -2;
}
