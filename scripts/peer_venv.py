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
