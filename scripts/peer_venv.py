"""The virtual environment (build/bench-venv) that holds PyPI peers such as ONNX Runtime for
the comparison scripts. Peers are for comparison only, never a build or test dependency of
Tern itself."""
import os
import pathlib
import subprocess

VENV = pathlib.Path(__file__).resolve().parent.parent / "build" / "bench-venv"


def ensure_venv(packages=("onnxruntime", "numpy")):
    """The venv's python, made and filled from PyPI when something is missing."""
    python = VENV / "bin" / "python"
    if not python.exists():
        base = os.environ.get("TERN_BENCH_PYTHON", "python3")
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    imports = "; ".join(f"import {package}" for package in packages)
    if subprocess.run([str(python), "-c", imports], capture_output=True).returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    return python


TORCH_VENV = VENV.parent / "torch-venv"


def ensure_torch_venv():
    """A python that has Debian's PyTorch (python3-torch) and the ONNX package (PyPI): a venv
    that sees /usr/bin/python3's packages, with onnx installed in it. Debian 12 has no
    python3-onnx, and libonnx-testdata's onnx/ folder shadows nothing in a venv (its own
    site-packages come first)."""
    python = TORCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(TORCH_VENV)], check=True)
    check = "import torch, onnx; onnx.load"
    if subprocess.run([str(python), "-c", check], capture_output=True).returncode != 0:
        # numpy < 2: Debian's torch was built against numpy 1 (onnx would pull numpy 2 in).
        subprocess.run([str(python), "-m", "pip", "install", "-q", "onnx", "numpy<2"], check=True)
    return python
