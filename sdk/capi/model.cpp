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

TERN_C_EXPORT size_t tern_model_input_count(const tern_model* model) { return model ? model->graph.inputs().size() : 0; }

TERN_C_EXPORT size_t tern_model_output_count(const tern_model* model) {
  return model ? model->graph.outputs().size() : 0;
}

TERN_C_EXPORT const char* tern_model_input_name(const tern_model* model, size_t index) {
  return model && index < model->graph.inputs().size() ? model->graph.inputs()[index]->name().c_str() : nullptr;
}

TERN_C_EXPORT const char* tern_model_output_name(const tern_model* model, size_t index) {
  return model && index < model->graph.outputs().size() ? model->graph.outputs()[index]->name().c_str() : nullptr;
}
