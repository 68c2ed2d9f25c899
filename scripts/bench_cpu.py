#!/usr/bin/python3
"""Float CPU throughput of Tern against PyTorch and ONNX Runtime, measured in one run.

Two networks with random weights: a LeNet-style CNN on 1x28x28 and a ResNet-18-shaped
network on 3x224x224. Each is built in PyTorch (Debian's python3-torch), exported to ONNX,
and timed at batch 1 and 64 with the same thread count in PyTorch, ONNX Runtime (PyPI, in a
virtual environment, build/bench-venv) and `tern bench` on the cpu backend. Prints
images/s and Tern's ratio to each peer. Run it on an otherwise idle machine: OpenMP
threads that spin while waiting (libgomp's default) lose badly to other busy processes.

    make build && /usr/bin/python3 scripts/bench_cpu.py [--threads N] [--seconds S] [--build DIR]
"""
import argparse
import json
import os
import pathlib
import sys

import torch
from torch import nn

from bench_common import ROOT, BenchError, cpu_name, export, ort_rate, tern_rate, torch_rate
from peer_venv import ensure_venv


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.ReLU(), nn.Conv2d(cout, cout, 3, 1, 1))
        self.skip = nn.Identity() if stride == 1 and cin == cout else nn.Conv2d(cin, cout, 1, stride)

    def forward(self, x):
        return torch.relu(self.a(x) + self.skip(x))


class ResNet18(nn.Module):
    """ResNet-18's layer shapes with BatchNorm folded away (as inference runtimes run it)."""

    def __init__(self):
        super().__init__()
        layers = [nn.Conv2d(3, 64, 7, 2, 3), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
        channels = 64
        for width in (64, 128, 256, 512):
            stride = 1 if width == channels else 2
            layers += [Block(channels, width, stride), Block(width, width, 1)]
            channels = width
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        return self.fc(torch.flatten(self.body(x), 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per configuration")
    parser.add_argument("--build", type=pathlib.Path, default=ROOT / "build",
                        help="the build folder whose bin/tern is measured; results go to its bench/")
    args = parser.parse_args()
    args.build = args.build.resolve()
    if not (args.build / "bin" / "tern").exists():
        sys.exit(f"build Tern first: no {args.build / 'bin' / 'tern'}")
    torch.manual_seed(0)
    work = args.build / "bench"
    work.mkdir(parents=True, exist_ok=True)
    python = ensure_venv()
    print(f"threads {args.threads}; torch {torch.__version__}; best of 5 windows over {args.seconds}s; "
          f"CPU: {cpu_name()}")
    print(f"{'network':10} {'batch':>5} {'tern':>9} {'pytorch':>9} {'ort':>9} {'tern/pytorch':>13} {'tern/ort':>9}")
    rows = []
    for name, model, shape in (("lenet", LeNet(), (1, 28, 28)), ("resnet18", ResNet18(), (3, 224, 224))):
        model.eval()
        path = work / f"{name}.onnx"
        export(model, shape, path)
        for batch in (1, 64):
            tern = tern_rate(args.build, path, batch, args.threads, args.seconds)
            pytorch = torch_rate(model, shape, batch, args.threads, args.seconds)
            ort = ort_rate(python, path, batch, args.threads, args.seconds)
            rows.append({"network": name, "batch": batch, "tern": tern, "pytorch": pytorch, "ort": ort["images_per_second"],
                         "ort_version": ort["version"]})
            print(f"{name:10} {batch:>5} {tern:>9.1f} {pytorch:>9.1f} {ort['images_per_second']:>9.1f} "
                  f"{tern / pytorch:>12.2f}x {tern / ort['images_per_second']:>8.2f}x", flush=True)
    (work / "results.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        sys.exit(str(error))
