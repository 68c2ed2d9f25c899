/* Every failure of the C API comes back as the documented status with a message that
 * names the cause; NULL handles are refused, not dereferenced. Exits 0 when all hold. */
#include <tern/tern.h>

#include <stdio.h>
#include <string.h>

static int failures = 0;

/* Checks that `got` is `want` and that the message mentions `needle`. */
static void expect(const char* what, tern_status got, tern_status want, const char* needle) {
  const char* message = tern_last_error();
  if (got != want) {
    fprintf(stderr, "%s: got %s, want %s (%s)\n", what, tern_status_name(got), tern_status_name(want), message);
    ++failures;
  } else if (needle != NULL && strstr(message, needle) == NULL) {
    fprintf(stderr, "%s: message '%s' does not mention '%s'\n", what, message, needle);
    ++failures;
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: tern_c_api_errors CONVNET.onnx\n");
    return 2;
  }
  tern_model* model = NULL;
  tern_runtime* runtime = NULL;
  tern_tensor* tensor = NULL;
  tern_tensor* output = NULL;
  const int64_t wrong_shape[4] = {1, 3, 28, 28};
  char names[256];
  size_t length = 0;

  expect("status name",
         strcmp(tern_status_name(TERN_LOAD_FAILED), "TERN_LOAD_FAILED") == 0 ? TERN_OK : TERN_INTERNAL_ERROR, TERN_OK,
         NULL);
  expect("version", tern_version()[0] != '\0' ? TERN_OK : TERN_INTERNAL_ERROR, TERN_OK, NULL);
  expect("missing file", tern_model_load("/nonexistent/model.onnx", &model), TERN_LOAD_FAILED,
         "/nonexistent/model.onnx");
  expect("NULL path", tern_model_load(NULL, &model), TERN_INVALID_ARGUMENT, "NULL");
  expect("load", tern_model_load(argv[1], &model), TERN_OK, NULL);
  if (model == NULL) return 1;
  if (tern_model_input_count(model) != 1 || strcmp(tern_model_input_name(model, 0), "input") != 0 ||
      strcmp(tern_model_output_name(model, 0), "logits") != 0 || tern_model_output_name(model, 1) != NULL) {
    fprintf(stderr, "the ConvNet's inputs and outputs are not input -> logits\n");
    ++failures;
  }

  if (tern_model_input_dtype(model, 0) != TERN_FLOAT32 || tern_model_input_rank(model, 0) != 4 ||
      tern_model_input_dim(model, 0, 0) != -1 || tern_model_input_dim(model, 0, 2) != 28 ||
      tern_model_input_dim(model, 0, 4) != -2 || tern_model_input_dim(model, 1, 0) != -2 ||
      tern_model_input_rank(model, 1) != 0) {
    fprintf(stderr, "the ConvNet's input is not float32 [-1, 1, 28, 28], or out-of-range queries are wrong\n");
    ++failures;
  }
  expect("threads", tern_backend_set_threads("cpu", 1), TERN_OK, NULL);
  expect("negative threads", tern_backend_set_threads("cpu", -1), TERN_INVALID_ARGUMENT, "-1");
  expect("threads of unknown backend", tern_backend_set_threads("nosuchbackend", 1), TERN_BACKEND_FAILED,
         "libtern-nosuchbackend.so");

  expect("unknown backend", tern_runtime_create(model, "nosuchbackend", &runtime), TERN_BACKEND_FAILED,
         "libtern-nosuchbackend.so");
  expect("backend without Conv", tern_runtime_create(model, "template", &runtime), TERN_BACKEND_FAILED, "Conv");
  expect("empty backend name", tern_runtime_create(model, "cpu,,template", &runtime), TERN_INVALID_ARGUMENT, "empty");
  expect("NULL model", tern_runtime_create(NULL, "cpu", &runtime), TERN_INVALID_ARGUMENT, NULL);
  expect("runtime", tern_runtime_create(model, "cpu", &runtime), TERN_OK, NULL);
  tern_model_free(model); /* runtimes outlive their model */

  expect("bad dtype", tern_tensor_create((tern_dtype)99, wrong_shape, 4, NULL, &tensor), TERN_INVALID_ARGUMENT,
         "dtype");
  expect("tensor", tern_tensor_create(TERN_FLOAT32, wrong_shape, 4, NULL, &tensor), TERN_OK, NULL);
  expect("no inputs", tern_runtime_run(runtime, NULL, 0, &output, 1), TERN_INVALID_ARGUMENT, "1 input");
  expect("wrong shape", tern_runtime_run(runtime, (const tern_tensor* const*)&tensor, 1, &output, 1), TERN_RUN_FAILED,
         "graph input 'input'");
  if (output != NULL) {
    fprintf(stderr, "a failed run stored an output\n");
    ++failures;
  }
  expect("node out of range", tern_runtime_node(runtime, 1000, NULL, NULL, NULL), TERN_INVALID_ARGUMENT, "1000");

  expect("backends", tern_available_backends(names, sizeof names, &length), TERN_OK, NULL);
  if (strstr(names, "cpu") == NULL || length != strlen(names)) {
    fprintf(stderr, "available backends '%s' (length %zu) lack cpu\n", names, length);
    ++failures;
  }
  expect("backends truncated", tern_available_backends(names, 2, &length), TERN_OK, NULL);
  if (strlen(names) != 1 || length < 3) {
    fprintf(stderr, "a 2-byte buffer got '%s', length %zu\n", names, length);
    ++failures;
  }
  if (tern_tensor_rank(NULL) != 0 || tern_tensor_dim(tensor, 9) != -1 || tern_tensor_data(NULL) != NULL) {
    fprintf(stderr, "NULL or out-of-range tensor queries did not give 0, -1, NULL\n");
    ++failures;
  }

  tern_tensor_free(tensor);
  tern_runtime_free(runtime);
  tern_runtime_free(NULL);
  tern_model_free(NULL);
  tern_tensor_free(NULL);
  if (failures == 0) printf("all C API error checks passed\n");
  return failures == 0 ? 0 : 1;
}
