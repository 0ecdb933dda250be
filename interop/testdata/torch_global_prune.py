"""Reference masks for whittle's global unstructured pruning.

Usage: torch_global_prune.py MODEL.onnx OUT_DIR SPARSITY...

Reads the Conv and Gemm weights of MODEL in graph order (input 1 of each node, an
initializer), wraps each in a module parameter, and runs PyTorch's own
torch.nn.utils.prune.global_unstructured(params, pruning_method=prune.L1Unstructured,
amount=S) for every S. For each S it writes OUT_DIR/mask_<k>.bin: the masks of all
weights concatenated in that order, one byte per weight (1 kept, 0 pruned). It also
writes OUT_DIR/manifest.json with the weight names and sizes, the torch version, and per
S the number pruned and how many weights share the largest pruned magnitude (ties at the
threshold, where torch.topk's choice among equal values decides).
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch.nn.utils import prune


def main():
    model_path, out_dir, sparsities = sys.argv[1], sys.argv[2], [float(s) for s in sys.argv[3:]]
    model = onnx.load(model_path)
    inits = {t.name: t for t in model.graph.initializer}
    names, arrays = [], []
    seen = set()
    for node in model.graph.node:
        if node.op_type not in ("Conv", "Gemm") or len(node.input) < 2:
            continue
        name = node.input[1]
        if name in seen or name not in inits:
            continue
        seen.add(name)
        names.append(name)
        arrays.append(numpy_helper.to_array(inits[name]).astype(np.float32))
    manifest = {"torch": torch.__version__, "weights": [[n, int(a.size)] for n, a in zip(names, arrays)], "runs": []}
    for k, s in enumerate(sparsities):
        modules = []
        for a in arrays:
            m = torch.nn.Module()
            m.weight = torch.nn.Parameter(torch.from_numpy(a.copy()))
            modules.append(m)
        prune.global_unstructured([(m, "weight") for m in modules], pruning_method=prune.L1Unstructured, amount=s)
        masks = np.concatenate([m.weight_mask.detach().numpy().reshape(-1) for m in modules]).astype(np.uint8)
        masks.tofile(os.path.join(out_dir, "mask_%d.bin" % k))
        flat = np.abs(np.concatenate([a.reshape(-1) for a in arrays]))
        pruned = masks == 0
        thr = float(flat[pruned].max()) if pruned.any() else 0.0
        manifest["runs"].append({
            "sparsity": s, "pruned": int(pruned.sum()), "threshold": thr,
            "ties_at_threshold": int((flat == thr).sum()) if pruned.any() else 0,
        })
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f)


if __name__ == "__main__":
    main()
