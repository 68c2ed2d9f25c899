/* embed_host_c: the C version of embed_host, through <tern/tern.h> only. Loads a model,
 * compiles it for the backends named on the command line, runs a batch of COUNT
 * synthetic 1x28x28 images (the same bytes in every language: pixel i of the batch is
 * ((i * 7919) % 256) / 255), and prints each logit exactly (as a C99 hex float) and the
 * top-1 class of each image. The test suite compares these logits with C++'s, bit for bit. */
#include <tern/tern.h>

#include <stdio.h>
#include <stdlib.h>

static int fail(const char* what, tern_status status) {
  fprintf(stderr, "embed_host_c: %s failed: %s: %s\n", what, tern_status_name(status), tern_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: embed_host_c MODEL.onnx BACKEND[,BACKEND...] [COUNT]\n");
    return 2;
  }
  const int64_t count = argc > 3 ? atoi(argv[3]) : 4;
  const int64_t shape[4] = {count, 1, 28, 28};
  const size_t pixels = (size_t)count * 28 * 28;
  float* image = malloc(pixels * sizeof(float));
  if (image == NULL) return 1;
  for (size_t i = 0; i < pixels; ++i) image[i] = (float)((i * 7919u) % 256u) / 255.0f;

  tern_model* model = NULL;
  tern_runtime* runtime = NULL;
  tern_tensor* input = NULL;
  tern_tensor* logits = NULL;
  tern_status status;
  int code = 0;
  if ((status = tern_model_load(argv[1], &model)) != TERN_OK)
    code = fail("tern_model_load", status);
  else if ((status = tern_runtime_create(model, argv[2], &runtime)) != TERN_OK)
    code = fail("tern_runtime_create", status);
  else if ((status = tern_tensor_create(TERN_FLOAT32, shape, 4, image, &input)) != TERN_OK)
    code = fail("tern_tensor_create", status);
  else if ((status = tern_runtime_run(runtime, (const tern_tensor* const*)&input, 1, &logits, 1)) != TERN_OK)
    code = fail("tern_runtime_run", status);

  if (code == 0) {
    for (size_t i = 0; i < tern_runtime_node_count(runtime); ++i) {
      const char *node, *op, *backend;
      tern_runtime_node(runtime, i, &node, &op, &backend);
      printf("node %s (%s) on %s\n", node, op, backend);
    }
    const int64_t rows = tern_tensor_dim(logits, 0), classes = tern_tensor_dim(logits, 1);
    const float* values = tern_tensor_data(logits);
    printf("logits %lld %lld\n", (long long)rows, (long long)classes);
    for (int64_t i = 0; i < rows * classes; ++i) printf("%a\n", values[i]);
    printf("top-1:");
    for (int64_t row = 0; row < rows; ++row) {
      int64_t best = 0;
      for (int64_t c = 1; c < classes; ++c)
        if (values[row * classes + c] > values[row * classes + best]) best = c;
      printf(" %lld", (long long)best);
    }
    printf("\n");
  }
  tern_tensor_free(logits);
  tern_tensor_free(input);
  tern_runtime_free(runtime);
  tern_model_free(model);
  free(image);
  return code;
}
