"""Writes the small .npy/.npy.gz fixtures that tests/sdk/io_test.cpp reads.

numpy is the independent reference: every file holds np.arange-based values the test
recomputes itself. Regenerate with Debian's python3: /usr/bin/python3 tests/data/make_npy_fixtures.py
"""
import gzip
import pathlib

import numpy as np

here = pathlib.Path(__file__).parent


def save(name, array, compress=False):
    path = here / name
    if compress:
        with gzip.open(path, "wb") as f:  # exactly how the seed tutorial stores its data
            np.save(f, array)
    else:
        np.save(path, array)


save("u8_2x3x4.npy", np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
save("u8_2x3x4.npy.gz", np.arange(24, dtype=np.uint8).reshape(2, 3, 4), compress=True)
save("f32_2x1x3x4.npy.gz", (np.arange(24, dtype=np.float32) / 23).reshape(2, 1, 3, 4), compress=True)
save("f64_5.npy", np.arange(5, dtype=np.float64) * 0.5)
save("i64_labels_2.npy", np.array([7, 3], dtype=np.int64))
save("bool_4.npy", np.array([True, False, False, True]))
save("i32_scalar.npy", np.array(42, dtype=np.int32))
save("f32_big_endian.npy", np.arange(3, dtype=">f4"))
save("f32_fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
save("complex.npy", np.arange(3, dtype=np.complex64))
with open(here / "u8_v2.npy", "wb") as f:
    np.lib.format.write_array(f, np.arange(6, dtype=np.uint8).reshape(3, 2), version=(2, 0))

# The first 300 Fashion-MNIST test images and labels as the seed stores its data, so a
# test can check that NPY and IDX inputs give the same accuracy.
FMNIST = pathlib.Path("/usr/share/datasets/fashion-mnist")
if FMNIST.exists():
    with gzip.open(FMNIST / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)[:300]
    with gzip.open(FMNIST / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:300].astype(np.int64)
    save("fmnist_test300_u8.npy", images)
    save("fmnist_test300_f32.npy.gz", (images.astype(np.float32) / 255).reshape(-1, 1, 28, 28), compress=True)
    save("fmnist_test300_labels.npy.gz", labels, compress=True)
