"""PyTorch reference for whittle's training engine (run with Debian's /usr/bin/python3).

The ONNX graph itself is run as a PyTorch computation, node by node, with every float
initializer loaded from the file as a leaf tensor, so the module trained here is exactly the
model whittle trains: same weights, same ops, PyTorch's autograd and optimizers.

    onnx_torch.py grads --out DIR --data FMNIST --count N [--inference] MODEL.onnx...
        cross-entropy gradient of every float initializer on one batch, the first N images
        of the Fashion-MNIST training split (IDX files in FMNIST, pixels/255), per model:
        DIR/NAME.npz holds p0, p1, ... in the order of DIR/NAME.npz.json's "names", s0,
        s1, ... (the BatchNormalization running statistics after the step, order
        "state"), the loss and the logits. Training mode unless --inference.

    onnx_torch.py finetune MODEL.onnx --data DIR --epochs N ... (see finetune --help)
        the fine-tune recipe of `whittle finetune` on Fashion-MNIST (train split, evaluated
        on the test split after every epoch), for the accuracy and time comparison: the
        same data order and augmentation (whittle's hash-based draws, reimplemented below),
        SGD/AdamW from torch.optim, the schedule per step, pruned weights kept at zero.
"""

import argparse
import json
import math
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def attrs_of(node):
    out = {}
    for a in node.attribute:
        out[a.name] = onnx.helper.get_attribute_value(a)
    return out


class OnnxModule:
    """Runs an ONNX graph with torch ops. params holds the float initializers (leaf tensors,
    requires_grad set for the trainable ones); state the BatchNormalization running
    statistics, which training-mode batch_norm updates in place."""

    def __init__(self, path, trainable=None):
        self.model = onnx.load(path)
        g = self.model.graph
        self.opset = next(o.version for o in self.model.opset_import if o.domain in ("", "ai.onnx"))
        inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        stats = set()
        for n in g.node:
            if n.op_type == "BatchNormalization":
                stats.update(n.input[3:5])
        self.consts, self.params, self.state = {}, {}, {}
        for name, arr in inits.items():
            t = torch.from_numpy(np.array(arr))
            if name in stats:
                self.state[name] = t.clone()
            elif t.dtype == torch.float32 and (trainable is None or trainable(name, t)):
                self.params[name] = t.clone().requires_grad_(True)
            else:
                self.consts[name] = t
        self.inputs = [i.name for i in g.input if i.name not in inits]
        self.outputs = [o.name for o in g.output]
        self.training = True
        self.fast_linear = False

    def values(self):
        v = dict(self.consts)
        v.update(self.params)
        v.update(self.state)
        return v

    def __call__(self, feeds, want=()):
        env = self.values()
        env.update(feeds)
        for n in self.model.graph.node:
            ins = [env[i] if i else None for i in n.input]
            outs = run_node(self, n, ins)
            for name, val in zip(n.output, outs):
                if name:
                    env[name] = val
        return [env[o] for o in self.outputs], {w: env[w] for w in want}


def pads_of(a, nd):
    pads = list(a.get("pads", [0] * (2 * nd)))
    return pads[:nd], pads[nd:]


def conv(m, a, x, w, b):
    nd = x.dim() - 2
    begin, end = pads_of(a, nd)
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("auto_pad")
    if begin != end:
        x = F.pad(x, [p for i in reversed(range(nd)) for p in (begin[i], end[i])])
        begin = [0] * nd
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
    return fn(x, w, b, stride=a.get("strides", 1), padding=begin, dilation=a.get("dilations", 1), groups=a.get("group", 1))


def matmul2d(m, A, B):
    """A @ B for matrices. With fast_linear set it runs as a 1x1 convolution: Debian's torch
    links the reference BLAS (about 1.5 GMAC/s here) while convolutions go to oneDNN, so
    the timing comparison does not charge PyTorch for its BLAS (testmodels/generate.py
    trains its Linear layers the same way)."""
    if not m.fast_linear:
        return A @ B
    n, k = A.shape
    return F.conv2d(A.reshape(n, k, 1, 1), B.t().reshape(B.shape[1], k, 1, 1)).reshape(n, B.shape[1])


def run_node(m, n, x):
    a = attrs_of(n)
    op = n.op_type
    if op == "Constant":
        return [torch.from_numpy(np.array(numpy_helper.to_array(a["value"])))]
    if op in ("Add", "Sub", "Mul", "Div", "Pow"):
        f = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div, "Pow": torch.pow}[op]
        if op == "Div" and not x[0].is_floating_point():
            return [torch.div(x[0], x[1], rounding_mode="trunc")]
        return [f(x[0], x[1])]
    if op == "Relu":
        return [F.relu(x[0])]
    if op == "Sqrt":
        return [torch.sqrt(x[0])]
    if op == "Erf":
        return [torch.erf(x[0])]
    if op == "Conv":
        return [conv(m, a, x[0], x[1], x[2] if len(x) > 2 else None)]
    if op == "MaxPool":
        nd = x[0].dim() - 2
        begin, end = pads_of(a, nd)
        assert begin == end
        fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[nd]
        return [fn(x[0], a["kernel_shape"], stride=a.get("strides", 1), padding=begin,
                   dilation=a.get("dilations", 1), ceil_mode=bool(a.get("ceil_mode", 0)))]
    if op == "BatchNormalization":
        mom = a.get("momentum", 0.9)
        training = m.training and n.input[3] in m.state
        y = F.batch_norm(x[0], x[3], x[4], x[1], x[2], training=training, momentum=1 - mom, eps=a.get("epsilon", 1e-5))
        return [y]
    if op == "Flatten":
        axis = a.get("axis", 1)
        s = x[0].shape
        return [x[0].reshape(int(np.prod(s[:axis])), -1)]
    if op == "Gemm":
        A, B = x[0], x[1]
        if a.get("transA", 0):
            A = A.t()
        if a.get("transB", 0):
            B = B.t()
        y = a.get("alpha", 1.0) * matmul2d(m, A, B)
        if len(x) > 2 and x[2] is not None:
            y = y + a.get("beta", 1.0) * x[2]
        return [y]
    if op == "MatMul":
        if x[0].dim() == 2 and x[1].dim() == 2:
            return [matmul2d(m, x[0], x[1])]
        return [torch.matmul(x[0], x[1])]
    if op == "Softmax":
        return [torch.softmax(x[0], a.get("axis", -1))]
    if op == "LayerNormalization":
        axis = a.get("axis", -1) % x[0].dim()
        return [F.layer_norm(x[0], x[0].shape[axis:], x[1], x[2] if len(x) > 2 else None, a.get("epsilon", 1e-5))]
    if op == "ReduceMean":
        axes = a.get("axes") if m.opset < 18 else (x[1].tolist() if len(x) > 1 and x[1] is not None else None)
        keep = bool(a.get("keepdims", 1))
        if axes is None:
            axes = list(range(x[0].dim()))
        return [x[0].mean(dim=tuple(axes), keepdim=keep)]
    if op == "Shape":
        return [torch.tensor(list(x[0].shape), dtype=torch.int64)]
    if op == "Gather":
        axis = a.get("axis", 0) % x[0].dim()
        idx = x[1].long()
        idx = torch.where(idx < 0, idx + x[0].shape[axis], idx)
        out = x[0].index_select(axis, idx.reshape(-1))
        shape = list(x[0].shape[:axis]) + list(idx.shape) + list(x[0].shape[axis + 1:])
        return [out.reshape(shape)]
    if op == "Concat":
        return [torch.cat(x, dim=a["axis"])]
    if op == "Unsqueeze":
        axes = a.get("axes") if m.opset < 13 else x[1].tolist()
        y = x[0]
        rank = y.dim() + len(axes)
        for ax in sorted(ax % rank for ax in axes):
            y = y.unsqueeze(ax)
        return [y]
    if op == "Squeeze":
        axes = a.get("axes") if m.opset < 13 else (x[1].tolist() if len(x) > 1 else None)
        y = x[0]
        if axes is None:
            return [y.squeeze()]
        for ax in sorted((ax % y.dim() for ax in axes), reverse=True):
            y = y.squeeze(ax)
        return [y]
    if op == "Reshape":
        shape = [int(v) for v in x[1].tolist()]
        shape = [x[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
        return [x[0].reshape(shape)]
    if op == "Transpose":
        perm = a.get("perm", list(reversed(range(x[0].dim()))))
        return [x[0].permute(*perm)]
    if op == "ConstantOfShape":
        v = torch.from_numpy(np.array(numpy_helper.to_array(a["value"]))) if "value" in a else torch.zeros(1)
        return [v.reshape(()).expand(*[int(d) for d in x[0].tolist()]).clone()]
    if op == "Equal":
        return [torch.eq(x[0], x[1])]
    if op == "Where":
        return [torch.where(x[0], x[1], x[2])]
    if op == "Expand":
        shape = torch.broadcast_shapes(tuple(x[0].shape), tuple(int(d) for d in x[1].tolist()))
        return [x[0].expand(shape)]
    if op == "Slice":
        starts, ends = x[1].tolist(), x[2].tolist()
        axes = x[3].tolist() if len(x) > 3 and x[3] is not None else list(range(len(starts)))
        steps = x[4].tolist() if len(x) > 4 and x[4] is not None else [1] * len(starts)
        idx = [slice(None)] * x[0].dim()
        for s, e, ax, st in zip(starts, ends, axes, steps):
            if st <= 0:
                raise NotImplementedError("negative slice steps")
            dim = x[0].shape[ax]
            s = max(0, min(dim, s + dim if s < 0 else s))
            e = max(0, min(dim, e + dim if e < 0 else e))
            idx[ax] = slice(s, e, st)
        return [x[0][tuple(idx)]]
    if op == "Identity":
        return [x[0]]
    if op == "Dropout":
        return [x[0]]
    raise NotImplementedError(op)


def open_maybe_gz(path):
    import gzip
    import os
    if os.path.exists(path):
        return open(path, "rb")
    return gzip.open(path + ".gz", "rb")


def read_idx(path):
    with open_maybe_gz(path) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(data_dir, split):
    """Fashion-MNIST images as float32 [N,1,28,28] in [0,1] and int64 labels."""
    prefix = {"train": "train", "test": "t10k"}[split]
    x = read_idx("%s/%s-images-idx3-ubyte" % (data_dir, prefix)).astype(np.float32) / 255
    y = read_idx("%s/%s-labels-idx1-ubyte" % (data_dir, prefix)).astype(np.int64)
    return torch.from_numpy(x[:, None].copy()), torch.from_numpy(y.copy())


def cmd_grads(args):
    import os
    xs, ys = load_split(args.data, args.split)
    x, y = xs[:args.count], ys[:args.count]
    for path in args.models:
        out = os.path.join(args.out, os.path.basename(path)[:-len(".onnx")] + ".npz")
        model_grads(path, x, y, out, not args.inference)


def model_grads(path, x, y, out_path, training):
    m = OnnxModule(path, lambda name, t: True)
    m.training = training
    (logits,), _ = m({m.inputs[0]: x})
    loss = F.cross_entropy(logits, y)
    loss.backward()
    names = sorted(m.params)
    out = {"loss": np.array(loss.item(), dtype=np.float64), "logits": logits.detach().numpy()}
    order = []
    for i, name in enumerate(names):
        g = m.params[name].grad
        out["p%d" % i] = (g if g is not None else torch.zeros_like(m.params[name])).numpy()
        order.append(name)
    for i, name in enumerate(sorted(m.state)):
        out["s%d" % i] = m.state[name].numpy()
    np.savez(out_path, **out)
    with open(out_path + ".json", "w") as f:
        json.dump({"names": order, "state": sorted(m.state)}, f)


# ---------------------------------------------------------------------------------------------
# whittle's counter-based randomness (train/internal/rng): data order and augmentation are
# the same draws here as in whittle.

M64 = (1 << 64) - 1


def splitmix(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def mix(*words):
    h = 0x9E3779B97F4A7C15
    for w in words:
        h = splitmix(h ^ (w & M64))
    return h


def rfloat(h):
    return (h >> 11) / float(1 << 53)


def intn(h, n):
    return int(rfloat(h) * n)


def perm(seed, n):
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = intn(mix(seed, i), i + 1)
        p[i], p[j] = p[j], p[i]
    return p


def augment(xb, rows, seed, crop, flip):
    """whittle's data.Loader augmentation: offsets dy, dx in [-crop, crop], a horizontal
    flip with probability 1/2, out(y, x) = in(y+dy, x+dx) (mirrored: W-1-(x+dx))."""
    if not crop and not flip:
        return xb
    if not crop:
        # Flips only: one indexed operation for the batch.
        flags = torch.tensor([rfloat(mix(seed, row, 2)) < 0.5 for row in rows])
        out = xb.clone()
        out[flags] = xb[flags].flip(-1)
        return out
    out = xb.clone()
    h, w = xb.shape[2], xb.shape[3]
    for k, row in enumerate(rows):
        dy = dx = 0
        if crop:
            dy = intn(mix(seed, row, 0), 2 * crop + 1) - crop
            dx = intn(mix(seed, row, 1), 2 * crop + 1) - crop
        f = flip and rfloat(mix(seed, row, 2)) < 0.5
        img = xb[k]
        if f:
            img = img.flip(-1)
        padded = F.pad(img, (crop, crop, crop, crop)) if crop else img
        out[k] = padded[:, crop + dy:crop + dy + h, crop + dx:crop + dx + w]
    return out


def schedule_factor(kind, warmup, step, total):
    f = 1.0
    if step < warmup:
        return (step + 1) / warmup
    if kind == "cosine":
        span = total - warmup
        if span > 0:
            f = 0.5 * (1 + math.cos(math.pi * min((step - warmup) / span, 1.0)))
    return f


def evaluate(m, xs, ys, batch=100):
    m.training = False
    correct = 0
    with torch.no_grad():
        for i in range(0, len(ys), batch):
            (logits,), _ = m({m.inputs[0]: xs[i:i + batch]})
            correct += int((logits.argmax(1) == ys[i:i + batch]).sum())
    m.training = True
    return correct


def cmd_finetune(args):
    m = OnnxModule(args.model, lambda name, t: t.numel() > 1)
    m.fast_linear = True
    xs, ys = load_split(args.data, "train")
    vx, vy = load_split(args.data, "test")
    if args.limit:
        xs, ys, vx, vy = xs[:args.limit], ys[:args.limit], vx[:args.limit], vy[:args.limit]
    params = [m.params[k] for k in m.params]  # file order, as whittle's Params()
    masks = {k: (p != 0) for k, p in m.params.items() if p.dim() >= 2 and bool((p == 0).any())} if args.keep_masks else {}
    if args.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum, nesterov=args.nesterov, weight_decay=args.weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    n = len(ys)
    steps = (n + args.batch - 1) // args.batch
    total = steps * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: schedule_factor(args.schedule, args.warmup, s, total))
    crop, flip = 0, False
    for part in args.augment.split(","):
        if part == "flip":
            flip = True
        elif part.startswith("crop:"):
            crop = int(part[5:])
    report = {"model": args.model, "threads": torch.get_num_threads(), "epochs": []}
    before = evaluate(m, vx, vy)
    report["before_correct"] = before
    best = None
    for epoch in range(1, args.epochs + 1):
        order = perm(mix(args.seed, 1, epoch), n)
        aseed = mix(args.seed, 2, epoch)
        t0, c0 = time.time(), time.process_time()
        loss_sum = correct = 0
        for s in range(steps):
            rows = order[s * args.batch:(s + 1) * args.batch]
            idx = torch.tensor(rows)
            xb = augment(xs[idx], rows, aseed, crop, flip)
            yb = ys[idx]
            (logits,), _ = m({m.inputs[0]: xb})
            loss = F.cross_entropy(logits, yb, label_smoothing=args.label_smoothing)
            opt.zero_grad()
            loss.backward()
            with torch.no_grad():
                for k, mask in masks.items():
                    m.params[k].grad.mul_(mask)
            opt.step()
            sched.step()
            with torch.no_grad():
                for k, mask in masks.items():
                    m.params[k].mul_(mask)
            loss_sum += loss.item() * len(rows)
            correct += int((logits.argmax(1) == yb).sum())
        secs, cpu = time.time() - t0, time.process_time() - c0
        val = evaluate(m, vx, vy)
        e = {"epoch": epoch, "loss": loss_sum / n, "accuracy": 100 * correct / n, "seconds": secs,
             "cpu_seconds": cpu, "val_correct": val, "val_accuracy": 100 * val / len(vy)}
        report["epochs"].append(e)
        print("epoch %d/%d  loss %.4f  train acc %.2f%%  %.0f img/s  val acc %.2f%% (%d/%d)" % (
            epoch, args.epochs, e["loss"], e["accuracy"], n / secs, e["val_accuracy"], val, len(vy)), file=sys.stderr, flush=True)
        if best is None or val > best["val_correct"]:
            best = e
    report["best"] = best
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grads")
    g.add_argument("models", nargs="+")
    g.add_argument("--out", required=True)
    g.add_argument("--data", required=True)
    g.add_argument("--split", default="train")
    g.add_argument("--count", type=int, default=32)
    g.add_argument("--inference", action="store_true")
    g.add_argument("--threads", type=int, default=2)
    f = sub.add_parser("finetune", help="the recipe of whittle finetune, on Fashion-MNIST")
    f.add_argument("model")
    f.add_argument("--data", required=True, help="Fashion-MNIST IDX folder")
    f.add_argument("--epochs", type=int, default=3)
    f.add_argument("--batch", type=int, default=128)
    f.add_argument("--lr", type=float, default=0.01)
    f.add_argument("--optimizer", default="sgd")
    f.add_argument("--momentum", type=float, default=0.9)
    f.add_argument("--nesterov", type=int, default=1)
    f.add_argument("--weight-decay", type=float, default=5e-4)
    f.add_argument("--schedule", default="cosine")
    f.add_argument("--warmup", type=int, default=0)
    f.add_argument("--label-smoothing", type=float, default=0.0)
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--augment", default="none")
    f.add_argument("--keep-masks", type=int, default=1)
    f.add_argument("--threads", type=int, default=2)
    f.add_argument("--json", default="")
    f.add_argument("--limit", type=int, default=0, help="use only the first N rows of each split (smoke tests)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.cmd == "grads":
        cmd_grads(args)
    elif args.cmd == "finetune":
        cmd_finetune(args)


if __name__ == "__main__":
    main()
