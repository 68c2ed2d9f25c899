/* Classifies the four Fashion-MNIST test images of images.c with a network exported by
 * `tern export --target c --name model` (model.h, model.c, model_weights.c) and prints the
 * class of each. Plain C99 with no heap: the weights are `static const` (they stay in
 * flash) and the only scratch memory is the arena below, which the caller provides.
 * The same file builds for a Cortex-M (make run) and for the host (make run-host). */
#include <stdint.h>
#include <stdio.h>

#include "images.h"
#include "model.h"

static const char* const class_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/* The arena holds every intermediate activation: MODEL_ARENA_SIZE bytes, 4-byte aligned
 * (uint32_t elements). Static here; any RAM will do, a stack buffer included. */
static uint32_t arena[(MODEL_ARENA_SIZE + 3) / 4];
static float scores[MODEL_OUTPUT_SIZE];

int main(void) {
  int image, k, correct = 0;
  for (image = 0; image < TERN_IMAGE_COUNT; ++image) {
    int best = 0;
    /* model_run scales the float pixels to int8, runs the integer network and dequantizes
     * the outputs (model_run_int takes and returns the integers directly). */
    if (model_run(tern_images[image], scores, arena) != 0) {
      printf("image %d: model_run failed\n", image);
      return 1;
    }
    for (k = 1; k < MODEL_OUTPUT_SIZE; ++k)
      if (scores[k] > scores[best]) best = k;
    printf("image %d: class %d (%s), label %d (%s)\n", image, best, best < 10 ? class_names[best] : "?",
           tern_labels[image], class_names[tern_labels[image]]);
    correct += best == tern_labels[image];
  }
  printf("%d of %d correct\n", correct, TERN_IMAGE_COUNT);
  return 0;
}
