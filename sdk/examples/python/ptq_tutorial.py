#!/usr/bin/env python3
"""The seed's PTQ tutorial (Eclipse AIDGE's "Post-Training Quantization with AIDGE" notebook,
../shared/seed/ptq_tutorial.txt) on Tern, its code in order with the imports mapped to
tern.aidge:

    PYTHONPATH=build/python python3 sdk/examples/python/ptq_tutorial.py

It loads the example ConvNet, runs example inferences, measures the float accuracy on the
first --nb-samples images, then runs the tutorial's quantization part twice, each time on a
freshly loaded model and freshly loaded samples (the tutorial rescales them in place):
NB_BITS = 8 (int8 weights and activations, int32 accumulation) and NB_BITS = 4 (the
notebook's int4 / int4 / int16). The data is the seed's format, made from Fashion-MNIST's
test split by scripts/make_seed_data.py (run for you when the default files are missing).
The last three lines are the accuracies:

    MODEL ACCURACY : 91.000%
    QUANTIZED MODEL ACCURACY (8 bits) : 91.000%
    QUANTIZED MODEL ACCURACY (4 bits) : 89.000%

`tern quantize MODEL --calib SAMPLES --calib-size N --fake ...` computes the same numbers.
"""
import argparse
import gzip
import os
import sys

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SEED_DATA = os.path.join(REPO_ROOT, "build", "seed_data")

try:
    import tern  # noqa: F401
except ImportError:  # not installed: the build tree's package (make build)
    sys.path.insert(0, os.path.join(REPO_ROOT, "build", "python"))
    try:
        import tern  # noqa: F401
    except ImportError:
        sys.exit("ptq_tutorial.py: cannot import tern: build it (make build) and run with PYTHONPATH=build/python, "
                 "or pip install . in a virtual environment")

try:  # plots are written to files: no display needed
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

# The tutorial's five imports, mapped (the only change to its code).
from tern.aidge import core as aidge_core, onnx as aidge_onnx, backend_cpu as aidge_backend_cpu  # noqa: E402,F401
from tern.aidge import quantization as aidge_quantization, model_explorer as aidge_model_explorer  # noqa: E402

# (NB_BITS, weight, activation, bias and accumulation precisions): 8 bits, then the notebook's 4.
CONFIGURATIONS = [
    (8, aidge_core.dtype.int8, aidge_core.dtype.int8, aidge_core.dtype.int32),
    (4, aidge_core.dtype.int4, aidge_core.dtype.int4, aidge_core.dtype.int16),
]


def arguments():
    parser = argparse.ArgumentParser(description="The seed's PTQ tutorial on Tern, its AIDGE calls mapped by tern.aidge.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", default=os.path.join(REPO_ROOT, "sdk", "examples", "models", "convnet.onnx"),
                        help="ONNX classifier taking N×1×28×28 float32 images")
    parser.add_argument("--samples", default=os.path.join(SEED_DATA, "fashion_mnist_samples.npy.gz"),
                        help="the seed's samples: float32 N×28×28 in [0, 1], gzipped .npy")
    parser.add_argument("--labels", default=os.path.join(SEED_DATA, "fashion_mnist_labels.npy.gz"),
                        help="the seed's labels: integer N, gzipped .npy")
    parser.add_argument("--nb-samples", type=int, default=100,
                        help="NB_SAMPLES: calibration images and evaluation images (the first N)")
    parser.add_argument("--fake-quantize", action=argparse.BooleanOptionalAction, default=True,
                        help="quantize_network(fake_quantize=...): keep the quantized model in float32")
    parser.add_argument("--clipping", default="MSE", choices=["MAX", "MSE", "AA", "KL"], type=str.upper,
                        help="quantize_network(clipping_mode=aidge_quantization.Clipping.<this>)")
    parser.add_argument("--explore", default=os.path.join(REPO_ROOT, "build", "ptq_tutorial"),
                        help="folder for the visualize() pages and the samples plot")
    args = parser.parse_args()
    if args.nb_samples <= 0:
        parser.error("--nb-samples must be positive")
    return args


def ensure_seed_data(args):
    """The default data files, made from Fashion-MNIST when missing; other paths must exist."""
    defaults = (os.path.join(SEED_DATA, "fashion_mnist_samples.npy.gz"),
                os.path.join(SEED_DATA, "fashion_mnist_labels.npy.gz"))
    missing = [path for path in (args.samples, args.labels) if not os.path.exists(path)]
    if not missing:
        return
    if (args.samples, args.labels) != defaults:
        sys.exit(f"ptq_tutorial.py: {', '.join(missing)} missing (python3 scripts/make_seed_data.py --out DIR "
                 f"writes the seed's format from Fashion-MNIST)")
    sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))
    import make_seed_data

    make_seed_data.make_seed_data(SEED_DATA)


# ---- the notebook's functions, as they are ------------------------------------------------

def propagate(model, scheduler, sample):
    # Setup the input
    sample = np.reshape(sample, (1, 1, 28, 28))
    input_tensor = aidge_core.Tensor(sample)
    # Run the inference
    scheduler.forward(True, [input_tensor])
    # Gather the results
    output_node = model.get_ordered_outputs()[0][0]
    output_tensor = output_node.get_operator().get_output(0)
    return np.array(output_tensor)


def compute_accuracy(model, samples, labels):
    acc = 0
    for i, x in enumerate(samples):
        y = propagate(model, scheduler, x)  # the notebook's global scheduler
        if labels[i] == np.argmax(y):
            acc += 1
    return acc / len(samples)


# ---- the notebook's cells ---------------------------------------------------------------------

def load_data(args):
    samples = np.load(gzip.GzipFile(args.samples, "r"))
    labels = np.load(gzip.GzipFile(args.labels, "r"))
    return samples, labels


def load_model(args):
    aidge_model = aidge_onnx.load_onnx(args.model, verbose=False)
    aidge_core.remove_flatten(aidge_model)  # we want to get rid of the 'flatten' nodes ...
    # Set up the backend
    aidge_model.set_datatype(aidge_core.dtype.float32)
    aidge_model.set_backend("cpu")
    return aidge_model


def quantized_accuracy(args, NB_BITS, weight_precision, activation_precision, bias_and_accumulation_precision):
    """The tutorial's quantization part, on a fresh model and fresh samples."""
    global scheduler
    NB_SAMPLES = args.nb_samples
    samples, labels = load_data(args)
    aidge_model = load_model(args)
    scheduler = aidge_core.SequentialScheduler(aidge_model)

    tensors = []
    for sample in samples[0:NB_SAMPLES]:
        sample = np.reshape(sample, (1, 1, 28, 28))
        tensor = aidge_core.Tensor(sample)
        tensors.append(tensor)

    aidge_quantization.auto_assign_node_precision(
        aidge_model, weight_precision, activation_precision, bias_and_accumulation_precision
    )
    aidge_quantization.quantize_network(
        network=aidge_model,
        calibration_set=tensors,
        clipping_mode=getattr(aidge_quantization.Clipping, args.clipping),
        no_quant=False,
        optimize_signs=False,
        single_shift=False,
        use_cuda=False,
        fold_graph=True,
        fake_quantize=args.fake_quantize,
        verbose=False,
    )
    scheduler = aidge_core.SequentialScheduler(aidge_model)
    aidge_model_explorer.visualize(aidge_model, f"model_after_PTQ_{NB_BITS}bits")

    scaling = 2 ** (NB_BITS - 1) - 1
    for i in range(NB_SAMPLES):
        samples[i] = np.round(samples[i] * scaling)

    print(f"\n EXAMPLE QUANTIZED INFERENCES ({NB_BITS} bits) :")
    for i in range(10):
        input_array = np.reshape(samples[i], (1, 1, 28, 28))
        output_array = propagate(aidge_model, scheduler, input_array)
        print(labels[i], " -> ", np.round(output_array, 2))

    accuracy = compute_accuracy(aidge_model, samples[0:NB_SAMPLES], labels)
    print(f"\n QUANTIZED MODEL ACCURACY ({NB_BITS} bits) : {accuracy * 100:.3f}%")
    return accuracy


def main():
    global scheduler
    args = arguments()
    ensure_seed_data(args)
    os.makedirs(args.explore, exist_ok=True)
    aidge_model_explorer.output_dir = args.explore

    print(" Available backends : ", aidge_core.Tensor.get_available_backends())
    NB_SAMPLES = args.nb_samples
    samples, labels = load_data(args)

    if plt is not None:
        for i in range(10):
            plt.subplot(1, 10, i + 1)
            plt.axis("off")
            plt.tight_layout()
            plt.imshow(samples[i], cmap="gray")
        plt.savefig(os.path.join(args.explore, "samples.png"))
        plt.close()

    aidge_model = load_model(args)
    # Create the Scheduler
    scheduler = aidge_core.SequentialScheduler(aidge_model)

    print("\n EXAMPLE INFERENCES :")
    for i in range(10):
        output_array = propagate(aidge_model, scheduler, samples[i])
        print(labels[i], " -> ", np.round(output_array, 2))

    accuracy = compute_accuracy(aidge_model, samples[0:NB_SAMPLES], labels)
    print(f"\n MODEL ACCURACY : {accuracy * 100:.3f}%")
    aidge_model_explorer.visualize(aidge_model, "model_before_ptq")

    quantized = {bits: quantized_accuracy(args, bits, *precisions) for bits, *precisions in CONFIGURATIONS}

    print(f"\nThe seed tutorial on {os.path.relpath(args.model)}, {NB_SAMPLES} images "
          f"({os.path.relpath(args.samples)}), Clipping.{args.clipping}, fake_quantize={args.fake_quantize}:")
    print(f"MODEL ACCURACY : {accuracy * 100:.3f}%")
    for bits, value in quantized.items():
        print(f"QUANTIZED MODEL ACCURACY ({bits} bits) : {value * 100:.3f}%")


if __name__ == "__main__":
    main()
