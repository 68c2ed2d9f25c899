/* Runs an exported network on the host over samples in files, for export_c_test.cpp:
     host_harness FLOATS INT8S COUNT INT_OUT FLOAT_OUT
   INT8S holds COUNT samples as Tern's int8 input for NAME_run_int, FLOATS the first of the
   same samples (as many as it holds) as float inputs for NAME_run; the int32 and float
   outputs are written raw, sample after sample.
   Compiled with -DNAME=<export name>, -DINPUT_SIZE=<NAME>_INPUT_SIZE (same for OUTPUT_SIZE and
   ARENA_SIZE) and the export's folder on the include path. */
#include <stdio.h>
#include <stdlib.h>

#define JOIN2(a, b) a##b
#define JOIN(a, b) JOIN2(a, b)
#define STR2(a) #a
#define STR(a) STR2(a)
#include STR(NAME.h)

static long file_elements(FILE* f, size_t element) {
  long bytes;
  if (fseek(f, 0, SEEK_END) != 0 || (bytes = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) return -1;
  return bytes / (long)element;
}

int main(int argc, char** argv) {
  FILE *floats, *ints, *int_out, *float_out;
  long count, float_count, i;
  float *x, *y;
  int8_t* q;
  int32_t* acc;
  void* arena;
  if (argc != 6) {
    fprintf(stderr, "usage: host_harness FLOATS INT8S COUNT INT_OUT FLOAT_OUT\n");
    return 2;
  }
  count = atol(argv[3]);
  floats = fopen(argv[1], "rb");
  ints = fopen(argv[2], "rb");
  int_out = fopen(argv[4], "wb");
  float_out = fopen(argv[5], "wb");
  if (!floats || !ints || !int_out || !float_out) {
    fprintf(stderr, "host_harness: cannot open the files\n");
    return 2;
  }
  float_count = file_elements(floats, sizeof(float)) / INPUT_SIZE;
  if (file_elements(ints, 1) != count * INPUT_SIZE || float_count > count) {
    fprintf(stderr, "host_harness: the input files do not hold %ld samples of %d\n", count, INPUT_SIZE);
    return 2;
  }
  x = malloc(sizeof(float) * INPUT_SIZE);
  q = malloc(INPUT_SIZE);
  y = malloc(sizeof(float) * OUTPUT_SIZE);
  acc = malloc(sizeof(int32_t) * OUTPUT_SIZE);
  arena = malloc(ARENA_SIZE); /* malloc'd: ASan sees any access past the arena */
  for (i = 0; i < count; ++i) {
    if (fread(q, 1, INPUT_SIZE, ints) != INPUT_SIZE || JOIN(NAME, _run_int)(q, acc, arena) != 0) return 3;
    fwrite(acc, sizeof(int32_t), OUTPUT_SIZE, int_out);
    if (i >= float_count) continue;
    if (fread(x, sizeof(float), INPUT_SIZE, floats) != INPUT_SIZE || JOIN(NAME, _run)(x, y, arena) != 0) return 3;
    fwrite(y, sizeof(float), OUTPUT_SIZE, float_out);
  }
  free(x);
  free(q);
  free(y);
  free(acc);
  free(arena);
  return fclose(int_out) != 0 || fclose(float_out) != 0 ? 2 : 0;
}
