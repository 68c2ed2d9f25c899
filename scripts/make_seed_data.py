#!/usr/bin/env python3
"""Writes the seed tutorial's data format from Fashion-MNIST's test split.

The seed notebook (../shared/seed/ptq_tutorial.txt) reads two gzipped NumPy files:

    samples = np.load(gzip.GzipFile("mnist_samples.npy.gz", "r"))   # float32 N×28×28 in [0, 1]
    labels = np.load(gzip.GzipFile("mnist_labels.npy.gz", "r"))     # int64 N

This script makes them from Debian's Fashion-MNIST (package dataset-fashion-mnist, IDX files
in /usr/share/datasets/fashion-mnist), test split, with nothing but NumPy and gzip:

    python3 scripts/make_seed_data.py                   # build/seed_data/fashion_mnist_{samples,labels}.npy.gz
    python3 scripts/make_seed_data.py --count 100 --out /tmp/seed

Pixels become float32(x / 255) computed in double precision, exactly as Tern's own
Fashion-MNIST loader does, so `tern eval --dataset fashion-mnist` and these files hold the
same numbers.
"""
from __future__ import annotations

import argparse
import gzip
import os
import sys

import numpy as np

DEFAULT_SOURCE = "/usr/share/datasets/fashion-mnist"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "build", "seed_data")
SAMPLES_NAME = "fashion_mnist_samples.npy.gz"
LABELS_NAME = "fashion_mnist_labels.npy.gz"


def read_idx(path: str) -> np.ndarray:
    """An unsigned-byte IDX file (gzipped or not) as a NumPy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    offset = 4 + 4 * rank
    count = int(np.prod(dims))
    if len(data) - offset != count:
        raise ValueError(f"{path}: {len(data) - offset} bytes of data for shape {dims}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def load_test_split(source: str = DEFAULT_SOURCE, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(samples float32 N×28×28 in [0, 1], labels int64 N) of the test split, the first `count`."""
    images_path = os.path.join(source, "t10k-images-idx3-ubyte.gz")
    labels_path = os.path.join(source, "t10k-labels-idx1-ubyte.gz")
    for path in (images_path, labels_path):
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} is missing: install Debian's dataset-fashion-mnist "
                                    f"(apt-get install dataset-fashion-mnist) or give --source DIR")
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if count is not None:
        images, labels = images[:count], labels[:count]
    samples = (images.astype(np.float64) / 255.0).astype(np.float32)
    return samples, labels.astype(np.int64)


def write_npy_gz(array: np.ndarray, path: str) -> None:
    """np.save into a gzip file, written beside the target then renamed (never half-written)."""
    partial = path + ".partial"
    with gzip.GzipFile(partial, "wb", mtime=0) as f:
        np.save(f, array)
    os.replace(partial, path)


def make_seed_data(out: str = DEFAULT_OUT, count: int | None = None, source: str = DEFAULT_SOURCE,
                   quiet: bool = False) -> tuple[str, str]:
    """Writes both files into `out`; returns their paths (samples, labels)."""
    samples, labels = load_test_split(source, count)
    os.makedirs(out, exist_ok=True)
    samples_path = os.path.join(out, SAMPLES_NAME)
    labels_path = os.path.join(out, LABELS_NAME)
    write_npy_gz(samples, samples_path)
    write_npy_gz(labels, labels_path)
    if not quiet:
        print(f"Wrote {samples_path} (float32 {'×'.join(map(str, samples.shape))} in [0, 1]) and "
              f"{labels_path} (int64 {labels.shape[0]}) from {source}, test split")
    return samples_path, labels_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--count", type=int, default=None, help="only the first N test images (default: all 10,000)")
    parser.add_argument("--source", default=DEFAULT_SOURCE, help="Fashion-MNIST IDX folder (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.count is not None and args.count <= 0:
        parser.error("--count must be positive")
    try:
        make_seed_data(args.out, args.count, args.source)
    except (OSError, ValueError) as error:
        print(f"make_seed_data: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
