#!/usr/bin/env python3
"""The seed tutorial's job in Tern's own Python API: float accuracy, then 8-bit and 4-bit
post-training quantization and their accuracies.

    PYTHONPATH=build/python python3 sdk/examples/python/quantize.py [--save DIR]

Calibration and evaluation use the same first --nb-samples test images, as the tutorial
does (Fashion-MNIST's test split, or the seed's NPY files with --samples/--labels), so the
numbers equal ptq_tutorial.py's. sdk/examples/python/ptq_tutorial.py is the same job in the
tutorial's AIDGE calls.
"""
import argparse
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

try:
    import tern
except ImportError:  # not installed: the build tree's package (make build)
    sys.path.insert(0, os.path.join(REPO_ROOT, "build", "python"))
    import tern


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=os.path.join(REPO_ROOT, "sdk", "examples", "models", "convnet.onnx"))
    parser.add_argument("--samples", help="seed-format samples (.npy[.gz]); default: Fashion-MNIST's test split")
    parser.add_argument("--labels", help="seed-format labels (.npy[.gz]), with --samples")
    parser.add_argument("--nb-samples", type=int, default=100, help="calibration and evaluation images")
    parser.add_argument("--clipping", default="MSE", choices=["MAX", "MSE", "AA", "KL", "PERCENTILE"], type=str.upper)
    parser.add_argument("--fake-quantize", action=argparse.BooleanOptionalAction, default=True,
                        help="run the quantized graphs in float32 (else cast to integer types, on integer kernels)")
    parser.add_argument("--save", metavar="DIR", help="write the quantized models there (.onnx)")
    args = parser.parse_args()

    if args.samples:
        data = tern.load_npy_dataset(args.samples, args.labels)
    else:
        data = tern.load_fashion_mnist(split="test")
    data = data.first(args.nb_samples)  # N×1×28×28 float32 in [0, 1], with labels

    graph = tern.load_for_inference(args.model)  # BatchNorm folded, activations fused
    print(f"{args.model}: {len(graph)} nodes; {len(data)} images of {data.description}")
    print(f"float accuracy: {100 * tern.evaluate(graph, data):.3f}%")

    for bits, precision, accumulation in ((8, tern.int8, tern.int32), (4, tern.int4, tern.int16)):
        quantized = tern.load_model(args.model)
        tern.ptq.auto_assign_node_precision(quantized, precision, precision, accumulation)
        # The fake-quantized form is the one saved (standard ONNX operators), as tern quantize does;
        # the integer graph is derived from a copy of it.
        seconds = tern.ptq.quantize_network(quantized, data, clipping_mode=getattr(tern.ptq.Clipping, args.clipping),
                                            fake_quantize=True)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            path = os.path.join(args.save, f"{os.path.splitext(os.path.basename(args.model))[0]}_int{bits}.onnx")
            tern.save_model(quantized, path)
        runnable = quantized
        if not args.fake_quantize:
            runnable = quantized.clone()
            tern.ptq.cast_to_integer(runnable)
        tern.prepare_for_inference(runnable)
        # evaluate() scales the inputs as the quantized graph expects (tern.ptq.scale_input).
        accuracy = tern.evaluate(runnable, data)
        print(f"{bits}-bit accuracy: {100 * accuracy:.3f}% (quantized in {sum(seconds.values()):.2f} s"
              f"{', integer kernels' if not args.fake_quantize else ''})")
        if args.save:
            print(f"  saved {path}")

    print("\nNext: tern.save_model(graph, 'q.onnx') (or --save DIR) writes a quantized model in standard ONNX\n"
          "operators; `build/bin/tern eval q.onnx --integer` runs it on integer kernels, and in Python\n"
          "tern.SequentialScheduler(graph).forward(tern.ptq.scale_input(graph, images)) gives its logits.")


if __name__ == "__main__":
    main()
