"""Shared fixtures of the Python suite. CTest (tests/python/CMakeLists.txt) runs it with
PYTHONPATH pointing at build/python and TERN_BIN at the tern command line tool."""
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ROOT / "sdk" / "examples" / "models"
DATA = ROOT / "tests" / "data"

# Run from a source checkout without CTest: the build tree's package.
if "tern" not in sys.modules and not any(pathlib.Path(p, "tern").is_dir() for p in sys.path if p):
    sys.path.insert(0, str(ROOT / "build" / "python"))


@pytest.fixture(scope="session")
def tern_bin() -> pathlib.Path:
    return pathlib.Path(os.environ.get("TERN_BIN", ROOT / "build" / "bin" / "tern"))


@pytest.fixture(scope="session")
def fmnist300():
    """300 Fashion-MNIST test images in the seed's format (float32 N×28×28, int64 labels)."""
    return DATA / "fmnist_test300_f32.npy.gz", DATA / "fmnist_test300_labels.npy.gz"
