"""Runs onnx.checker.check_model(full_check=True) of the installed onnx package on every
model path read from stdin (one per line) and prints one line per model:
"OK path" or "FAIL path: reason". Used by whittle's interop tests; it must run with
Debian's Python (/usr/bin/python3), which has python3-onnx.

The model is loaded first and checked in memory: given a path, onnx 1.12's full check runs
infer_shapes_path with the output path defaulting to the input path, which rewrites the
model it was asked to check (it added value_info to 137 read-only test models once)."""
import sys

import onnx

for line in sys.stdin:
    path = line.strip()
    if not path:
        continue
    try:
        # load_external_data reads tensors stored beside the model, so the in-memory check
        # sees what a path check would.
        model = onnx.load(path, load_external_data=True)
        onnx.checker.check_model(model, full_check=True)
        print("OK", path, flush=True)
    except Exception as e:  # the checker raises several exception types
        msg = str(e).replace("\n", " ")[:400]
        print("FAIL", path + ":", msg, flush=True)
