"""Fashion-MNIST loader for Tern's example models.

Reads the IDX ``.gz`` files shipped by Debian (package ``fashion-mnist``,
installed under /usr/share/datasets/fashion-mnist) with gzip + numpy only.

Images are returned as float32 arrays of shape N x 1 x 28 x 28 with values
pixel / 255 in [0, 1] -- no mean/std normalisation.  That is exactly the
input the exported ONNX models expect.  Labels are int64 in 0..9.
"""

import gzip
import os

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"

IMAGES_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned byte, 1 dimension

SPLITS = {
    # split: (images file, labels file, expected count)
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000),
}

CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


class IdxFormatError(ValueError):
    """Raised when an IDX file is malformed or does not match expectations."""


def _read_gz(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path}: not found (install the Debian package providing "
            f"Fashion-MNIST, or pass --data-dir)")
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise IdxFormatError(f"{path}: cannot decompress gzip data: {e}") from e


def _header(path, data, magic, ndims):
    hdr_len = 4 + 4 * ndims
    if len(data) < hdr_len:
        raise IdxFormatError(
            f"{path}: file too short ({len(data)} bytes) for an IDX header")
    got_magic = int.from_bytes(data[0:4], "big")
    if got_magic != magic:
        raise IdxFormatError(
            f"{path}: bad magic number 0x{got_magic:08x}, expected 0x{magic:08x}")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndims)]
    expected_payload = int(np.prod(dims, dtype=np.int64))
    if len(data) - hdr_len != expected_payload:
        raise IdxFormatError(
            f"{path}: payload is {len(data) - hdr_len} bytes but header dims "
            f"{dims} require {expected_payload}")
    return dims, hdr_len


def read_idx_images(path, expected_count=None):
    """Return float32 N x 1 x 28 x 28 in [0, 1] (pixel / 255)."""
    data = _read_gz(path)
    (n, rows, cols), off = _header(path, data, IMAGES_MAGIC, 3)
    if (rows, cols) != (28, 28):
        raise IdxFormatError(f"{path}: images are {rows}x{cols}, expected 28x28")
    if expected_count is not None and n != expected_count:
        raise IdxFormatError(f"{path}: {n} images, expected {expected_count}")
    pixels = np.frombuffer(data, dtype=np.uint8, offset=off)
    return (pixels.reshape(n, 1, rows, cols).astype(np.float32) / np.float32(255.0))


def read_idx_labels(path, expected_count=None):
    """Return int64 labels of shape N, each in 0..9."""
    data = _read_gz(path)
    (n,), off = _header(path, data, LABELS_MAGIC, 1)
    if expected_count is not None and n != expected_count:
        raise IdxFormatError(f"{path}: {n} labels, expected {expected_count}")
    labels = np.frombuffer(data, dtype=np.uint8, offset=off).astype(np.int64)
    if labels.size and labels.max() > 9:
        raise IdxFormatError(f"{path}: label value {labels.max()} out of range 0..9")
    return labels


def load(split, data_dir=DEFAULT_DIR):
    """Load ``split`` ("train" or "test"); returns (images, labels)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}, expected one of {sorted(SPLITS)}")
    img_name, lbl_name, count = SPLITS[split]
    images = read_idx_images(os.path.join(data_dir, img_name), count)
    labels = read_idx_labels(os.path.join(data_dir, lbl_name), count)
    if images.shape[0] != labels.shape[0]:
        raise IdxFormatError(
            f"{split}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels


if __name__ == "__main__":
    for s in ("train", "test"):
        x, y = load(s)
        print(f"{s}: images {x.shape} {x.dtype} range [{x.min()}, {x.max()}], "
              f"labels {y.shape} {y.dtype}, counts {np.bincount(y).tolist()}")
