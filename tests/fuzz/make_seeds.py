"""Writes the fuzz seed corpus (corpus/<target>/) and the reproducers of the crash
classes (regressions/<target>/) that are made by hand rather than found by a fuzzer.

Plain python3 and protoc (Debian's protobuf-compiler; ONNX models are written as protobuf
text and encoded with onnx.proto from libonnx-dev): no numpy, no onnx package.
Regenerate with: python3 tests/fuzz/make_seeds.py  (files the fuzzers found and that were
saved by hand stay untouched; this script only rewrites the files it names).
"""
import gzip
import pathlib
import shutil
import struct
import subprocess

here = pathlib.Path(__file__).parent
data = here.parent / "data"
ONNX_PROTO = pathlib.Path("/usr/include/onnx/onnx.proto")


def write(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)


# --- NPY -----------------------------------------------------------------------------------


def npy(header, payload=b"", version=1, pad=True):
    """An NPY file with the given header dict text (padded to 64 bytes like numpy does)."""
    text = header.encode("latin-1")
    length_size = 2 if version == 1 else 4
    if pad:
        text += b" " * (63 - (10 + length_size - 2 + len(text)) % 64) + b"\n"
    length = struct.pack("<H" if version == 1 else "<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + payload


npy_corpus = here / "corpus" / "npy"
npy_corpus.mkdir(parents=True, exist_ok=True)
for name in ["bool_4.npy", "complex.npy", "f32_big_endian.npy", "f32_fortran.npy", "f64_5.npy", "i32_scalar.npy",
             "i64_labels_2.npy", "u8_2x3x4.npy", "u8_v2.npy", "u8_2x3x4.npy.gz", "f32_2x1x3x4.npy.gz"]:
    shutil.copyfile(data / name, npy_corpus / name)
write(npy_corpus / "i16_2x2.npy", npy("{'descr': '<i2', 'fortran_order': False, 'shape': (2, 2), }",
                                      struct.pack("<4h", 1, -2, 3, -4)))
write(npy_corpus / "i8_empty.npy", npy("{'descr': '|i1', 'fortran_order': False, 'shape': (0, 5), }"))
write(npy_corpus / "f32_v3_dquote.npy", npy('{"descr": "<f4", "fortran_order": False, "shape": (2,)}',
                                            struct.pack("<2f", 1.5, -2.0), version=3))

npy_regressions = here / "regressions" / "npy"
# A header of one long whitespace run: the regular expression that once parsed headers
# recursed once per character and overflowed the stack.
write(npy_regressions / "long_whitespace_header.npy",
      npy("{'descr':" + " " * 60000 + "'|u1', 'fortran_order': False, 'shape': (1,), }", b"\x07"))
# The same past the 64 KiB header limit (format 2.0: a 4-byte header length).
write(npy_regressions / "header_over_64k.npy",
      npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }" + " " * 70000, b"\x07", version=2))
# 2^32 x 2^32 x 1 bytes: the element count wraps to 0 in 64-bit unsigned arithmetic.
write(npy_regressions / "shape_2p32_2p32_1.npy",
      npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4294967296, 4294967296, 1), }"))
# A dimension above INT64_MAX (std::stoll threw std::out_of_range past the reader).
write(npy_regressions / "dim_above_int64_max.npy",
      npy("{'descr': '|u1', 'fortran_order': False, 'shape': (9223372036854775808,), }"))
# A bool array holding byte 220 (loading it as bool is undefined behaviour).
write(npy_regressions / "bool_byte_220.npy",
      npy("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", bytes([0, 1, 220, 0])))
# A header length pointing past the end of the file, and a gzip stream cut short.
write(npy_regressions / "header_length_past_end.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr'")
write(npy_regressions / "truncated.npy.gz", gzip.compress(npy("{'descr': '<f4', 'fortran_order': False, "
                                                              "'shape': (64,), }", b"\0" * 256), mtime=0)[:60])
# Negative, empty and non-decimal dimensions; a descr with a newline in it.
write(npy_regressions / "negative_dim.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"))
write(npy_regressions / "hex_dim.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0x10,), }"))
write(npy_regressions / "newline_in_descr.npy", npy("{'descr': '<f\n4', 'fortran_order': False, 'shape': (1,), }",
                                                    b"\0" * 4))

# --- IDX -----------------------------------------------------------------------------------


def idx(dims, payload, type_byte=0x08):
    return bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


idx_corpus = here / "corpus" / "idx"
write(idx_corpus / "images_2x3x3.idx", idx([2, 3, 3], bytes(range(18))))
write(idx_corpus / "labels_4.idx", idx([4], bytes([0, 9, 3, 1])))
write(idx_corpus / "labels_4.idx.gz", gzip.compress(idx([4], bytes([0, 9, 3, 1])), mtime=0))
write(idx_corpus / "float_type.idx", idx([2], struct.pack(">2f", 1.0, 2.0), type_byte=0x0D))
write(idx_corpus / "empty_dim.idx", idx([0, 28, 28], b""))

idx_regressions = here / "regressions" / "idx"
# Dimensions whose product is 2^48 bytes: refused from the file size, never allocated.
write(idx_regressions / "huge_dims.idx", idx([65536, 65536, 65536], b"\0" * 16))
# 255 dimensions of 2^32-1: the element count overflows int64.
write(idx_regressions / "rank_255_max_dims.idx", idx([0xFFFFFFFF] * 255, b""))
write(idx_regressions / "rank_0.idx", bytes([0, 0, 8, 0]))
write(idx_regressions / "truncated_header.idx", bytes([0, 0, 8, 3, 0, 0, 0, 2]))

# --- ONNX ----------------------------------------------------------------------------------


def tensor_type(elem, dims):
    text = " ".join(f'dim {{ dim_param: "{d}" }}' if isinstance(d, str) else f"dim {{ dim_value: {d} }}"
                    for d in dims)
    return f"type {{ tensor_type {{ elem_type: {elem} shape {{ {text} }} }} }}"


def value(name, dims, elem=1):
    return f'{{ name: "{name}" {tensor_type(elem, dims)} }}'


def ints(name, values):
    return f'attribute {{ name: "{name}" type: INTS ' + " ".join(f"ints: {v}" for v in values) + " }"


def onnx_model(graph, opset=13):
    text = (f'ir_version: 8 producer_name: "tern fuzz seeds" opset_import {{ domain: "" version: {opset} }} '
            f"graph {{ {graph} }}")
    result = subprocess.run(["protoc", f"--proto_path={ONNX_PROTO.parent}", "--encode=onnx.ModelProto",
                             ONNX_PROTO.name], input=text.encode(), capture_output=True, check=True)
    return result.stdout


def floats(name, dims, values):
    return (f'initializer {{ name: "{name}" data_type: 1 ' + " ".join(f"dims: {d}" for d in dims) + " " +
            " ".join(f"float_data: {v}" for v in values) + " }")


def int64s(name, dims, values):
    return (f'initializer {{ name: "{name}" data_type: 7 ' + " ".join(f"dims: {d}" for d in dims) + " " +
            " ".join(f"int64_data: {v}" for v in values) + " }")


CONV_RELU = (
    'name: "conv_relu" '
    'node { name: "conv" op_type: "Conv" input: "x" input: "w" input: "b" output: "c" ' + ints("pads", [1, 1, 1, 1]) +
    " } "
    'node { name: "relu" op_type: "Relu" input: "c" output: "y" } ' +
    floats("w", [2, 1, 3, 3], [0.1 * i for i in range(18)]) + " " + floats("b", [2], [0.5, -0.5]) + " "
    f'input {value("x", ["N", 1, 4, 4])} output {value("y", ["N", 2, 4, 4])}')

onnx_corpus = here / "corpus" / "onnx"
write(onnx_corpus / "conv_relu.onnx", onnx_model(CONV_RELU))
write(onnx_corpus / "mlp.onnx", onnx_model(
    'name: "mlp" '
    'node { op_type: "Flatten" input: "x" output: "f" } '
    'node { op_type: "Gemm" input: "f" input: "w" input: "b" output: "g" attribute { name: "transB" type: INT i: 1 } } '
    'node { op_type: "Relu" input: "g" output: "r" } '
    'node { op_type: "Softmax" input: "r" output: "y" attribute { name: "axis" type: INT i: 1 } } ' +
    floats("w", [3, 4], [0.25 * i - 1 for i in range(12)]) + " " + floats("b", [3], [0, 1, 2]) + " "
    f'input {value("x", ["N", 2, 2])} output {value("y", ["N", 3])}'))
write(onnx_corpus / "shape_ops.onnx", onnx_model(
    'name: "shape_ops" '
    'node { op_type: "Reshape" input: "x" input: "shape" output: "r" } '
    'node { op_type: "Transpose" input: "r" output: "t" ' + ints("perm", [0, 2, 1]) + " } "
    'node { op_type: "Pad" input: "t" input: "pads" output: "p" } '
    'node { op_type: "Concat" input: "p" input: "p" output: "c" attribute { name: "axis" type: INT i: 1 } } '
    'node { op_type: "Slice" input: "c" input: "starts" input: "ends" input: "axes" output: "s" } '
    'node { op_type: "Unsqueeze" input: "s" input: "axes0" output: "u" } '
    'node { op_type: "MaxPool" input: "u" output: "m" ' + ints("kernel_shape", [2, 2]) + " " +
    ints("strides", [1, 1]) + " } "
    'node { op_type: "GlobalAveragePool" input: "m" output: "y" } ' +
    int64s("shape", [3], [0, 4, 2]) + " " + int64s("pads", [6], [0, 1, 0, 0, 1, 0]) + " " +
    int64s("starts", [1], [1]) + " " + int64s("ends", [1], [9]) + " " + int64s("axes", [1], [1]) + " " +
    int64s("axes0", [1], [1]) + " "
    f'input {value("x", [2, 8])} output {value("y", [2, 1, 1, 1])}'))
write(onnx_corpus / "batchnorm_pool.onnx", onnx_model(
    'name: "batchnorm_pool" '
    'node { op_type: "Conv" input: "x" input: "w" output: "c" ' + ints("strides", [2, 2]) + " } "
    'node { op_type: "BatchNormalization" input: "c" input: "s" input: "b" input: "m" input: "v" output: "n" } '
    'node { op_type: "AveragePool" input: "n" output: "a" ' + ints("kernel_shape", [2, 2]) + " } "
    'node { op_type: "Add" input: "a" input: "a" output: "y" } ' +
    floats("w", [1, 1, 1, 1], [2.0]) + " " + floats("s", [1], [1.5]) + " " + floats("b", [1], [0.1]) + " " +
    floats("m", [1], [0.2]) + " " + floats("v", [1], [0.9]) + " "
    f'input {value("x", [1, 1, 8, 8])} output {value("y", [1, 1, 2, 2])}'))
write(onnx_corpus / "not_onnx.onnx", b"this is not a protobuf message\n")

onnx_regressions = here / "regressions" / "onnx"
# Windows with stride 0: libonnx's shape inference divided by it (SIGFPE) before Tern's
# own checks ran.
write(onnx_regressions / "conv_strides_0.onnx", onnx_model(
    'name: "conv_strides_0" '
    'node { op_type: "Conv" input: "x" input: "w" output: "y" ' + ints("strides", [0, 0]) + " } " +
    floats("w", [1, 1, 1, 1], [1.0]) + " "
    f'input {value("x", [1, 1, 4, 4])} output {value("y", [1, 1, 4, 4])}'))
write(onnx_regressions / "maxpool_strides_0.onnx", onnx_model(
    'name: "maxpool_strides_0" '
    'node { op_type: "MaxPool" input: "x" output: "y" ' + ints("kernel_shape", [2, 2]) + " " +
    ints("strides", [0, 0]) + " } "
    f'input {value("x", [1, 1, 4, 4])} output {value("y", [1, 1, 3, 3])}'))
# Convolutions whose weights have more axes than their data input, with no kernel_shape:
# libonnx 1.12's convPoolShapeInference takes the kernel from the weights and reads input
# dimensions past the end (SIGSEGV, found by the onnx fuzz target), also when the input is
# an intermediate value whose rank only inference knows, and (an AddressSanitizer report)
# when the weights are computed. The same code reads past the end for a Conv in an If
# branch, ConvTranspose with such weights or rank-1 weights, and MaxUnpool with rank-1
# indices (read in libonnx's source; not seen to crash, libonnx is not instrumented).
W_3X3 = floats("w", [1, 1, 3, 3], [1.0] * 9)
write(onnx_regressions / "conv_input_rank_2.onnx", onnx_model(
    'name: "conv_input_rank_2" '
    'node { op_type: "Conv" input: "x" input: "w" output: "y" } ' + W_3X3 + " "
    f'input {value("x", [4, 4])} output {value("y", [1, 1, 2, 2])}'))
write(onnx_regressions / "conv_weight_rank_above_input.onnx", onnx_model(
    'name: "conv_weight_rank_above_input" '
    'node { op_type: "Conv" input: "x" input: "w" output: "y" } ' + W_3X3 + " "
    f'input {value("x", [1, 1, 4])} output {value("y", [1, 1, 2])}'))
write(onnx_regressions / "conv_intermediate_rank_2.onnx", onnx_model(
    'name: "conv_intermediate_rank_2" '
    'node { op_type: "Relu" input: "x" output: "r" } '
    'node { op_type: "Conv" input: "r" input: "w" output: "y" } ' + W_3X3 + " "
    f'input {value("x", ["N", 4])} output {value("y", [1, 1, 2, 2])}'))
write(onnx_regressions / "conv_computed_weight_rank_above_input.onnx", onnx_model(
    'name: "conv_computed_weight_rank_above_input" '
    'node { op_type: "Relu" input: "w" output: "rw" } '
    'node { op_type: "Conv" input: "x" input: "rw" output: "y" } ' + W_3X3 + " "
    f'input {value("x", [1, 1, 4])} output {value("y", [1, 1, 2])}'))
write(onnx_regressions / "conv_in_if_branch_rank_2.onnx", onnx_model(
    'name: "conv_in_if_branch_rank_2" '
    'node { op_type: "If" input: "c" output: "y" '
    'attribute { name: "then_branch" type: GRAPH g { name: "then" '
    'node { op_type: "Conv" input: "x" input: "w" output: "t" } '
    f'output {value("t", [1, 1, 2, 2])} }} }} '
    'attribute { name: "else_branch" type: GRAPH g { name: "else" '
    'node { op_type: "Conv" input: "x" input: "w" output: "e" } '
    f'output {value("e", [1, 1, 2, 2])} }} }} }} ' + W_3X3 + " "
    f'input {value("c", [], elem=9)} input {value("x", [4, 4])} output {value("y", [1, 1, 2, 2])}'))
write(onnx_regressions / "conv_transpose_weight_rank_above_input.onnx", onnx_model(
    'name: "conv_transpose_weight_rank_above_input" '
    'node { op_type: "ConvTranspose" input: "x" input: "w" output: "y" ' + ints("dilations", [1]) + " } " +
    W_3X3 + " " f'input {value("x", [1, 1, 4])} output {value("y", [1, 1, 6])}'))
write(onnx_regressions / "conv_transpose_weight_rank_1.onnx", onnx_model(
    'name: "conv_transpose_weight_rank_1" '
    'node { op_type: "ConvTranspose" input: "x" input: "w" output: "y" ' + ints("kernel_shape", [3, 3]) + " } " +
    floats("w", [1], [1.0]) + " " f'input {value("x", [1, 1, 4, 4])} output {value("y", [1, 1, 6, 6])}'))
write(onnx_regressions / "maxunpool_indices_rank_1.onnx", onnx_model(
    'name: "maxunpool_indices_rank_1" '
    'node { op_type: "MaxUnpool" input: "x" input: "i" output: "y" ' + ints("kernel_shape", [2, 2]) + " } " +
    int64s("i", [1], [0]) + " " f'input {value("x", [1, 1, 2, 2])} output {value("y", [1, 1, 4, 4])}'))
# BatchNormalization reading one initializer as both mean and variance, folded into the
# Conv before it by prepare_for_inference: Graph::remove_node dropped the twice-read
# value twice (heap-use-after-free, found by the onnx fuzz target under AddressSanitizer;
# fixed: values are dropped once each). A well-formed model ("valid_": the CLI check
# accepts exit code 0 for it as well as 2).
write(onnx_regressions / "valid_batchnorm_same_initializer_twice.onnx", onnx_model(
    'name: "batchnorm_same_initializer_twice" '
    'node { op_type: "Conv" input: "x" input: "w" output: "c" } '
    'node { op_type: "BatchNormalization" input: "c" input: "s" input: "b" input: "m" input: "m" output: "y" } ' +
    floats("w", [1, 1, 1, 1], [2.0]) + " " + floats("s", [1], [1.5]) + " " + floats("b", [1], [0.1]) + " " +
    floats("m", [1], [0.2]) + " "
    f'input {value("x", [1, 1, 4, 4])} output {value("y", [1, 1, 4, 4])}'))
write(onnx_regressions / "avgpool_kernel_0.onnx", onnx_model(
    'name: "avgpool_kernel_0" '
    'node { op_type: "AveragePool" input: "x" output: "y" ' + ints("kernel_shape", [0, 0]) + " } "
    f'input {value("x", [1, 1, 4, 4])} output {value("y", [1, 1, 4, 4])}'))


def external(location, extra=""):
    return onnx_model(
        'name: "external" '
        'node { op_type: "Add" input: "x" input: "w" output: "y" } '
        'initializer { name: "w" data_type: 1 dims: 4 data_location: EXTERNAL '
        f'external_data {{ key: "location" value: "{location}" }} {extra} }} '
        f'input {value("x", [4])} output {value("y", [4])}')


# External data outside the model's folder (from the fuzz target's temp folder this
# resolves to the real /etc/passwd).
write(onnx_regressions / "external_data_escape.onnx", external("../../etc/passwd"))
write(onnx_regressions / "external_data_absolute.onnx", external("/etc/passwd"))
# A non-numeric offset (std::stoll threw std::invalid_argument past the plugin).
write(onnx_regressions / "external_data_offset_text.onnx",
      external("weights.bin", 'external_data { key: "offset" value: "ten" }'))
write(onnx_regressions / "external_data_length_huge.onnx",
      external("weights.bin", 'external_data { key: "length" value: "99999999999999999999" }'))
# Pad with INT64_MIN pads: the padded size overflows int64.
write(onnx_regressions / "pad_int64_min.onnx", onnx_model(
    'name: "pad_int64_min" '
    'node { op_type: "Pad" input: "x" input: "pads" output: "y" } ' +
    int64s("pads", [4], [-9223372036854775808, 0, 0, 0]) + " "
    f'input {value("x", [2, 3])} output {value("y", [2, 3])}'))
# A Reshape to a shape whose element count overflows int64.
write(onnx_regressions / "reshape_overflow.onnx", onnx_model(
    'name: "reshape_overflow" '
    'node { op_type: "Reshape" input: "x" input: "shape" output: "y" } ' +
    int64s("shape", [3], [4294967296, 4294967296, 4294967296]) + " "
    f'input {value("x", [2, 3])} output {value("y", [2, 3])}'))
# A node name with a newline and terminal escape bytes: errors that echo it stay one line.
write(onnx_regressions / "newline_in_names.onnx", onnx_model(
    'name: "newline" '
    'node { name: "bad\\nnode\\033[31m" op_type: "Frobnicate" input: "x" output: "y" } '
    f'input {value("x", [2])} output {value("y", [2])}'))
write(onnx_regressions / "truncated.onnx", onnx_model(CONV_RELU)[:100])

# --- shape inference -----------------------------------------------------------------------
# The target reads its bytes as choices (shape_infer_fuzz.cpp); any bytes are a valid seed.
shape_corpus = here / "corpus" / "shape_infer"
write(shape_corpus / "zeros_64", bytes(64))
write(shape_corpus / "ones_64", b"\x01" * 64)
write(shape_corpus / "ramp_256", bytes(range(256)))
write(shape_corpus / "high_128", b"\xf0" * 128)
write(shape_corpus / "mixed_512", bytes((i * 37 + 11) % 256 for i in range(512)))
