"""Runs onnx.checker.check_model(full_check=True) of the installed onnx package on every
model path read from stdin (one per line) and prints one line per model:
"OK path" or "FAIL path: reason". Used by whittle's interop tests; it must run with
Debian's Python (/usr/bin/python3), which has python3-onnx."""
import sys

import onnx

for line in sys.stdin:
    path = line.strip()
    if not path:
        continue
    try:
        onnx.checker.check_model(path, full_check=True)
        print("OK", path, flush=True)
    except Exception as e:  # the checker raises several exception types
        msg = str(e).replace("\n", " ")[:400]
        print("FAIL", path + ":", msg, flush=True)
