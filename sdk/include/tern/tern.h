/**
 * \file tern.h
 * Tern's C embedding API (libtern_c.so, CMake target Tern::c), for hosts written in C or
 * in any language with a C foreign-function interface.
 *
 * - Every object is an opaque handle the caller frees with its *_free function (free
 *   functions accept NULL).
 * - Every call that can fail returns a tern_status; on failure, tern_last_error() holds a
 *   message that says what failed and where. No C++ exception crosses this API.
 * - A model is loaded once (tern_model_load), then compiled for a backend preference list
 *   (tern_runtime_create), then run as often as needed (tern_runtime_run). Backends are
 *   plugins found by name, exactly as `tern --backend` finds them.
 * - A runtime runs one call at a time; use one runtime per thread to run in parallel. A
 *   runtime may move between threads between calls. Runtimes on different threads give the
 *   results they give alone (tests/threading, also under ThreadSanitizer).
 */
#ifndef TERN_TERN_H
#define TERN_TERN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a call returns. Values are stable: new ones are only ever added. */
typedef enum tern_status {
  TERN_OK = 0,
  TERN_INVALID_ARGUMENT = 1, /**< a NULL handle, an index out of range, a tensor of the wrong count, type or shape */
  TERN_LOAD_FAILED = 2,      /**< the model file cannot be read or is not a valid model */
  TERN_BACKEND_FAILED = 3,   /**< a backend cannot be loaded, or no backend in the list runs some node */
  TERN_RUN_FAILED = 4,       /**< a kernel failed while running */
  TERN_OUT_OF_MEMORY = 5,    /**< an allocation failed */
  TERN_INTERNAL_ERROR = 6    /**< anything else: a bug to report, with tern_last_error() */
} tern_status;

/** Element types, as Tern's DataType (int4/uint4 take one byte per value). Values are stable. */
typedef enum tern_dtype {
  TERN_FLOAT32 = 0,
  TERN_FLOAT64 = 1,
  TERN_INT4 = 2,
  TERN_UINT4 = 3,
  TERN_INT8 = 4,
  TERN_UINT8 = 5,
  TERN_INT16 = 6,
  TERN_INT32 = 7,
  TERN_INT64 = 8,
  TERN_BOOL = 9
} tern_dtype;

/** A dense row-major tensor in host memory. */
typedef struct tern_tensor tern_tensor;
/** A model loaded from a file, not yet compiled for any backend. */
typedef struct tern_model tern_model;
/** A model compiled for a backend preference list. */
typedef struct tern_runtime tern_runtime;

/** "TERN_OK", "TERN_LOAD_FAILED", ...; "unknown status" for any other value. */
const char* tern_status_name(tern_status status);
/** The message of the last call on this thread that failed; "" when none has. Valid until
 *  the next failing call on this thread. */
const char* tern_last_error(void);
/** The version of the Tern library loaded, e.g. "0.1.0". */
const char* tern_version(void);

/** Writes the names of the backends this process can use, comma-separated ("cpu,naive"),
 *  into `buffer` (always NUL-terminated when capacity > 0, truncated to fit) and their
 *  full length, without the NUL, into `*length` (when not NULL). */
tern_status tern_available_backends(char* buffer, size_t capacity, size_t* length);

/** A new tensor of `dtype` and `shape` (`rank` dimensions), holding a copy of `data`
 *  (product(shape) elements; NULL: zeros). */
tern_status tern_tensor_create(tern_dtype dtype, const int64_t* shape, size_t rank, const void* data,
                               tern_tensor** tensor);
/** Frees a tensor (NULL is ignored). */
void tern_tensor_free(tern_tensor* tensor);
/** The tensor's element type (TERN_FLOAT32 for NULL). */
tern_dtype tern_tensor_dtype(const tern_tensor* tensor);
/** The number of dimensions (0 for NULL). */
size_t tern_tensor_rank(const tern_tensor* tensor);
/** Dimension `axis`, or -1 when the tensor is NULL or `axis` is out of range. */
int64_t tern_tensor_dim(const tern_tensor* tensor, size_t axis);
/** The number of elements (0 for NULL). */
size_t tern_tensor_element_count(const tern_tensor* tensor);
/** The elements, row-major, valid until the tensor is freed (NULL for NULL). */
const void* tern_tensor_data(const tern_tensor* tensor);

/** Loads a model file (the format by extension: .onnx) and prepares it for inference
 *  (BatchNorm folded, activations fused, as `tern eval` does). */
tern_status tern_model_load(const char* path, tern_model** model);
/** Frees a model (NULL is ignored). Runtimes made from it stay valid. */
void tern_model_free(tern_model* model);
/** The number of graph inputs (0 for NULL). */
size_t tern_model_input_count(const tern_model* model);
/** The number of graph outputs (0 for NULL). */
size_t tern_model_output_count(const tern_model* model);
/** The name of input `index`, or NULL when out of range; valid while the model lives. */
const char* tern_model_input_name(const tern_model* model, size_t index);
/** The name of output `index`, or NULL when out of range; valid while the model lives. */
const char* tern_model_output_name(const tern_model* model, size_t index);

/** The element type of input `index` (TERN_FLOAT32 when out of range). */
tern_dtype tern_model_input_dtype(const tern_model* model, size_t index);
/** The rank of input `index` (0 when out of range). */
size_t tern_model_input_rank(const tern_model* model, size_t index);
/** Dimension `axis` of input `index`: -1 for a dimension free at run time (the batch),
 *  -2 when `index` or `axis` is out of range. */
int64_t tern_model_input_dim(const tern_model* model, size_t index, size_t axis);

/** Sets how many threads the backend `backend` (loaded by name when needed) may use;
 *  0 means the default (OpenMP's: OMP_NUM_THREADS, else all cores). The count belongs to
 *  the backend: it applies from the next run to every runtime using it, on whichever
 *  thread that runtime runs. */
tern_status tern_backend_set_threads(const char* backend, int threads);

/** Compiles `model` for `backends`, a comma-separated preference list ("cpu", "naive,cpu"):
 *  each node runs on the first backend with a kernel for it. Backends load by name. */
tern_status tern_runtime_create(const tern_model* model, const char* backends, tern_runtime** runtime);
/** Frees a runtime (NULL is ignored). */
void tern_runtime_free(tern_runtime* runtime);
/** Runs the model on `input_count` inputs (one per graph input, in order; any batch size)
 *  and stores `output_count` new tensors (one per graph output) in `outputs`, which the
 *  caller frees with tern_tensor_free. On failure no output is stored. */
tern_status tern_runtime_run(tern_runtime* runtime, const tern_tensor* const* inputs, size_t input_count,
                             tern_tensor** outputs, size_t output_count);
/** The number of nodes the runtime runs (0 for NULL). */
size_t tern_runtime_node_count(const tern_runtime* runtime);
/** Node `index` in execution order: its name, op type and the backend that runs it
 *  (strings valid while the runtime lives; any out-pointer may be NULL). */
tern_status tern_runtime_node(const tern_runtime* runtime, size_t index, const char** node, const char** op_type,
                              const char** backend);

#ifdef __cplusplus
}
#endif

#endif /* TERN_TERN_H */
