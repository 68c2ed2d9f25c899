#!/bin/sh
# Run the three PTQ peers on the given models (default: every trained one),
# one JSON file per peer and model under peers/results/, then print the merged
# markdown table (the one in MODELS.md).  From the repository root:
#
#     sh sdk/examples/models/peers/run_all.sh [convnet convnet_bn resnet_tiny mobilenet_tiny]
#
# Each peer runs under `nice -n 19` with 2 threads.  ort_ptq.py and aidge_ptq.py
# create their virtual environments (build/peers-venv, build/aidge-venv) on
# first use with the pyenv python3; pytorch_ptq.py needs Debian's
# /usr/bin/python3 with python3-torch and python3-onnx.
set -e
cd "$(dirname "$0")/../../../.."
P=sdk/examples/models/peers
R=$P/results
mkdir -p "$R"
models="$*"
if [ -z "$models" ]; then
    for m in convnet convnet_bn resnet_tiny mobilenet_tiny; do
        [ -f "sdk/examples/models/$m.onnx" ] && models="$models $m"
    done
fi
for m in $models; do
    nice -n 19 /usr/bin/python3 $P/pytorch_ptq.py --model "$m" --json "$R/pytorch_$m.json"
    nice -n 19 python3 $P/ort_ptq.py --model "$m" --json "$R/ort_$m.json"
    nice -n 19 python3 $P/aidge_ptq.py --model "$m" --json "$R/aidge_$m.json"
done
python3 $P/common.py table $R/pytorch_*.json $R/ort_*.json $R/aidge_*.json
