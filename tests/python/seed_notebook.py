# The seed's PTQ notebook (../shared/seed/ptq_tutorial.txt, Eclipse AIDGE's "Post-Training
# Quantization with AIDGE"): its code cells in order, verbatim, except
#   - the five aidge imports, replaced by the two tern.aidge lines the issue names;
#   - the `%pip install` cell, an IPython magic, left out.
# It reads ConvNet.onnx, mnist_samples.npy.gz and mnist_labels.npy.gz from the current
# folder (the download cell skips files that exist): test_aidge_compat.py runs it in a
# temporary folder holding the example ConvNet and Fashion-MNIST in the seed's format.
# Run it by hand the same way:  cd DIR && PYTHONPATH=<repo>/build/python python3 <this file>
import gzip
import numpy as np
import matplotlib.pyplot as plt

from tern.aidge import core as aidge_core, onnx as aidge_onnx, backend_cpu as aidge_backend_cpu
from tern.aidge import quantization as aidge_quantization, model_explorer as aidge_model_explorer

print(" Available backends : ", aidge_core.Tensor.get_available_backends())

BASE_URL = "https://gitlab.eclipse.org/eclipse/aidge/aidge/-/raw/main/examples/tutorials/PTQ_tutorial/"

# Download the model, input and output data files
files_to_download = ["ConvNet.onnx", "mnist_samples.npy.gz", "mnist_labels.npy.gz"]

for file_name in files_to_download:
    aidge_core.utils.download_file(
        file_path=file_name, file_url=f"{BASE_URL}{file_name}"
    )

NB_SAMPLES = 100

samples = np.load(gzip.GzipFile("mnist_samples.npy.gz", "r"))
labels = np.load(gzip.GzipFile("mnist_labels.npy.gz", "r"))

for i in range(10):
    plt.subplot(1, 10, i + 1)
    plt.axis("off")
    plt.tight_layout()
    plt.imshow(samples[i], cmap="gray")

aidge_model = aidge_onnx.load_onnx("ConvNet.onnx", verbose=False)
aidge_core.remove_flatten(aidge_model)  # we want to get rid of the 'flatten' nodes ...

# Set up the backend
aidge_model.set_datatype(aidge_core.dtype.float32)
aidge_model.set_backend("cpu")

# Create the Scheduler
scheduler = aidge_core.SequentialScheduler(aidge_model)

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


print("\n EXAMPLE INFERENCES :")
for i in range(10):
    output_array = propagate(aidge_model, scheduler, samples[i])
    print(labels[i], " -> ", np.round(output_array, 2))

def compute_accuracy(model, samples, labels):
    acc = 0
    for i, x in enumerate(samples):
        y = propagate(model, scheduler, x)
        if labels[i] == np.argmax(y):
            acc += 1
    return acc / len(samples)


accuracy = compute_accuracy(aidge_model, samples[0:NB_SAMPLES], labels)
print(f"\n MODEL ACCURACY : {accuracy * 100:.3f}%")

aidge_model_explorer.visualize(aidge_model, "model_before_ptq")

tensors = []
for sample in samples[0:NB_SAMPLES]:
    sample = np.reshape(sample, (1, 1, 28, 28))
    tensor = aidge_core.Tensor(sample)
    tensors.append(tensor)

NB_BITS = 4
weight_precision = aidge_core.dtype.int4
activation_precision = aidge_core.dtype.int4
bias_and_accumulation_precision = (
    aidge_core.dtype.int16
)  # The precision for the accumulation must always be greater

aidge_quantization.auto_assign_node_precision(
    aidge_model, weight_precision, activation_precision, bias_and_accumulation_precision
)

aidge_quantization.quantize_network(
    network=aidge_model,  # The AIDGE model to quantize
    calibration_set=tensors,  # Calibration dataset used to estimate useful value ranges
    clipping_mode=aidge_quantization.Clipping.MSE,  # Clipping method applied (e.g., MSE clipping)
    no_quant=False,  # Debug flag; disables quantization rounding if True to avoid data loss
    optimize_signs=False,  # Sign optimization: can improve post-quantization accuracy
    # by detecting purely unsigned ranges and exploiting them
    single_shift=False,  # Single Shift Approximation:
    # replaces floating-point multiplications with bit shifts
    # Note: only effective for integer target types
    use_cuda=False,  # Enable CUDA for faster range computation during PTQ
    fold_graph=True,  # Apply constant folding to merge quantizers with their producers
    # Reduces graph size and improves efficiency
    fake_quantize=True,  # If True, does not cast tensors to the target datatype
    # Graph stays in float (useful for testing or simulation)
    verbose=False,  # Enable verbose logging
)


scheduler = aidge_core.SequentialScheduler(aidge_model)

aidge_model_explorer.visualize(aidge_model, "model_after_PTQ")

scaling = 2 ** (NB_BITS - 1) - 1
for i in range(NB_SAMPLES):
    samples[i] = np.round(samples[i] * scaling)

print("\n EXAMPLE QUANTIZED INFERENCES :")
for i in range(10):
    input_array = np.reshape(samples[i], (1, 1, 28, 28))
    output_array = propagate(aidge_model, scheduler, input_array)
    print(labels[i], " -> ", np.round(output_array, 2))

accuracy = compute_accuracy(aidge_model, samples[0:NB_SAMPLES], labels)
print(f"\n QUANTIZED MODEL ACCURACY : {accuracy * 100:.3f}%")
