#!/usr/bin/python3
"""Train and export whittle's own test models (Fashion-MNIST classifiers).

Run from the repository root with Debian's Python (python3-torch 1.13, python3-onnx 1.12):

    /usr/bin/python3 testmodels/generate.py                      # all three trained models
    /usr/bin/python3 testmodels/generate.py --only fashion_mlp   # one model
    /usr/bin/python3 testmodels/generate.py --torchvision        # + random-weight torchvision exports
    /usr/bin/python3 testmodels/generate.py --students --no-train  # untrained user students for distillation

Every model takes float32 `input` [N,1,28,28] with pixels in [0,1] and returns `logits` [N,10].
The dataset normalization is a Sub/Div inside the model, so a caller feeds raw pixels.

Determinism: seeds are fixed, torch.use_deterministic_algorithms(True) is on and the thread count
is pinned (--threads, default 2). With the same PyTorch build and the same thread count a rerun
reproduces the weights, the accuracy and (as the sha256 in models.json shows) the .onnx bytes.
A different thread count or build may change float summation order and so the last bits.
"""

import argparse
import gzip
import hashlib
import json
import os
import platform
import struct
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.environ.get("WHITTLE_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")

# Fashion-MNIST training-set pixel statistics (after scaling to [0,1]); generate.py prints the
# values it measures so the constants can be checked.
FASHION_MEAN = 0.2860
FASHION_STD = 0.3530

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

OPSETS = (13, 17)


# ---------------------------------------------------------------------------------------------
# Data


def _open_maybe_gz(path):
    """Opens path, or path + '.gz' when only the compressed file exists."""
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            with open(candidate, "rb") as f:
                magic = f.read(2)
            if magic == b"\x1f\x8b":
                return gzip.open(candidate, "rb"), candidate
            return open(candidate, "rb"), candidate
    raise FileNotFoundError(f"neither {path} nor {path}.gz exists")


def read_idx(path):
    """Reads an IDX file (the MNIST format): big-endian header, then uint8 data."""
    f, real = _open_maybe_gz(path)
    with f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{real}: not an unsigned-byte IDX file (magic {data[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{real}: header says {dims} but holds {body.size} bytes")
    return body.reshape(dims)


def load_split(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte"))
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # [N,1,28,28] in [0,1]
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def augment(x, gen, crop=True, pad=2):
    """Horizontal flip and (with crop) a random crop with zero padding, drawn from gen (so it
    is seeded)."""
    n = x.shape[0]
    if crop:
        padded = F.pad(x, (pad, pad, pad, pad))
        offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=gen)
        rows = (offsets[:, 0:1] + torch.arange(28))[:, :, None]      # [n,28,1]
        cols = (offsets[:, 1:2] + torch.arange(28))[:, None, :]      # [n,1,28]
        out = padded[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)
    else:
        out = x.clone()
    mask = torch.rand(n, generator=gen) < 0.5
    out[mask] = out[mask].flip(-1)
    return out


# ---------------------------------------------------------------------------------------------
# Models


class Linear(nn.Linear):
    """nn.Linear whose training-mode forward runs as a 1x1 convolution.

    Debian's python3-torch links the reference BLAS, which runs nn.Linear at ~1.5 GMAC/s on
    this machine, while the same product written as a convolution goes to oneDNN and trains
    2-6x faster. Eval mode (evaluation and torch.onnx.export) takes the plain nn.Linear path,
    so the exported graph has the usual Gemm/MatMul nodes.
    """

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        lead = x.shape[:-1]
        y = F.conv2d(x.reshape(-1, self.in_features, 1, 1),
                     self.weight.view(self.out_features, self.in_features, 1, 1), self.bias)
        return y.reshape(*lead, self.out_features)


class Normalize(nn.Module):
    """(x - mean) / std, exported as Sub and Div at the start of the graph."""

    def __init__(self, mean=FASHION_MEAN, std=FASHION_STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def forward(self, x):
        return (x - self.mean) / self.std


def conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ResidualBlock(nn.Module):
    """Two 3x3 conv+BN layers with an identity shortcut (exports as Add)."""

    def __init__(self, ch):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(x + y)


class FashionCNN(nn.Module):
    """Residual CNN teacher: Conv/BatchNorm/ReLU/MaxPool, two residual blocks, Flatten->Linear head.

    The convolutions' BatchNorms fold into the Convs at export (PyTorch's eval-mode export does
    that); the BatchNorm1d in the head stays a BatchNormalization node. Dropout vanishes in
    eval mode."""

    def __init__(self):
        super().__init__()
        self.norm = Normalize()
        self.features = nn.Sequential(
            conv_bn_relu(1, 32),            # 28x28
            nn.MaxPool2d(2),                # 14x14
            conv_bn_relu(32, 64),
            nn.MaxPool2d(2),                # 7x7
            ResidualBlock(64),
            conv_bn_relu(64, 128),
            ResidualBlock(128),
            nn.MaxPool2d(2),                # 3x3
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.25),
            Linear(128 * 3 * 3, 640, bias=False),
            nn.BatchNorm1d(640),
            nn.ReLU(inplace=True),
            nn.Dropout(0.25),
            Linear(640, 10),
        )

    def forward(self, x):
        return self.head(self.features(self.norm(x)))


class FashionMLP(nn.Module):
    """MLP 784-256-128-10 with ReLU and Dropout."""

    def __init__(self):
        super().__init__()
        self.norm = Normalize()
        self.net = nn.Sequential(
            nn.Flatten(),
            Linear(784, 256), nn.ReLU(inplace=True), nn.Dropout(0.2),
            Linear(256, 128), nn.ReLU(inplace=True), nn.Dropout(0.1),
            Linear(128, 10),
        )

    def forward(self, x):
        return self.net(self.norm(x))


class Attention(nn.Module):
    """Multi-head self-attention written out with Linear, MatMul and Softmax."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = Linear(dim, 3 * dim)
        self.proj = Linear(dim, dim)

    def forward(self, x):
        _, tokens, dim = x.shape
        qkv = self.qkv(x).reshape(-1, tokens, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                      # [N, heads, tokens, head_dim]
        attn = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * self.scale, dim=-1)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(-1, tokens, dim)
        return self.proj(out)


class EncoderLayer(nn.Module):
    """Pre-norm transformer encoder layer."""

    def __init__(self, dim, heads, mlp_dim, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                                 Linear(mlp_dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        x = x + self.drop(self.attn(self.ln1(x)))
        return x + self.drop(self.mlp(self.ln2(x)))


class FashionViT(nn.Module):
    """Tiny vision transformer: 7x7 patches (16 tokens) + class token, Conv patch embedding."""

    def __init__(self, dim=64, depth=2, heads=2, mlp_dim=128, dropout=0.0):
        super().__init__()
        self.norm = Normalize()
        self.patch = nn.Conv2d(1, dim, kernel_size=7, stride=7)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, 17, dim) * 0.02)
        self.layers = nn.Sequential(*[EncoderLayer(dim, heads, mlp_dim, dropout)
                                      for _ in range(depth)])
        self.ln = nn.LayerNorm(dim)
        self.head = Linear(dim, 10)

    def forward(self, x):
        x = self.patch(self.norm(x)).flatten(2).transpose(1, 2)   # [N,16,dim]
        cls = self.cls.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos
        x = self.ln(self.layers(x))
        return self.head(x[:, 0])


class FashionStudent(nn.Module):
    """A student a user might design for distilling fashion_cnn: three Conv-BN-ReLU stages
    (16, 32, 64 channels) with max pooling and a 576->128->10 head, about 8% of the teacher's
    MACs. Exported untrained, with BatchNormalization kept as nodes so that it trains."""

    def __init__(self):
        super().__init__()
        self.norm = Normalize()
        self.features = nn.Sequential(
            conv_bn_relu(1, 16), nn.MaxPool2d(2),      # 14x14
            conv_bn_relu(16, 32), nn.MaxPool2d(2),     # 7x7
            conv_bn_relu(32, 64), nn.MaxPool2d(2),     # 3x3
        )
        self.head = nn.Sequential(nn.Flatten(), Linear(64 * 3 * 3, 128), nn.ReLU(inplace=True),
                                  Linear(128, 10))

    def forward(self, x):
        return self.head(self.features(self.norm(x)))


# Untrained students: seeded initialisation only.
STUDENTS = {
    "fashion_student": dict(build=FashionStudent, seed=4),
}


# Training recipes: epochs, batch, optimizer and whether to augment. Chosen so the whole
# generator runs in well under 20 minutes on 2 shared cores.
RECIPES = {
    "fashion_cnn": dict(build=FashionCNN, seed=1, epochs=5, batch=256, opt="sgd", lr=0.2,
                        wd=5e-4, augment="flip"),
    "fashion_mlp": dict(build=FashionMLP, seed=2, epochs=10, batch=256, opt="adam", lr=2e-3,
                        wd=1e-4, augment=None),
    "fashion_vit": dict(build=FashionViT, seed=3, epochs=5, batch=256, opt="adam", lr=3e-3,
                        wd=5e-2, augment="flip"),
}


# ---------------------------------------------------------------------------------------------
# Training and evaluation


class Log:
    """Prints, and appends to path when one is given."""

    def __init__(self, path):
        self.f = open(path, "a") if path else None

    def __call__(self, msg):
        print(msg, flush=True)
        if self.f:
            self.f.write(msg + "\n")
            self.f.flush()


def seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def train(name, recipe, train_x, train_y, log):
    seed_everything(recipe["seed"])
    model = recipe["build"]()
    gen = torch.Generator().manual_seed(recipe["seed"])
    steps_per_epoch = (len(train_x) + recipe["batch"] - 1) // recipe["batch"]
    total = steps_per_epoch * recipe["epochs"]
    if recipe["opt"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=recipe["lr"], momentum=0.9, nesterov=True,
                              weight_decay=recipe["wd"])
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=recipe["wd"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe["lr"], total_steps=total,
                                                pct_start=0.25)
    log(f"[{name}] params={count_params(model)} epochs={recipe['epochs']} batch={recipe['batch']} "
        f"opt={recipe['opt']} lr={recipe['lr']} wd={recipe['wd']} augment={recipe['augment']} "
        f"seed={recipe['seed']}")
    start = time.time()
    for epoch in range(recipe["epochs"]):
        model.train()
        perm = torch.randperm(len(train_x), generator=gen)
        loss_sum, correct, seen = 0.0, 0, 0
        for s in range(steps_per_epoch):
            idx = perm[s * recipe["batch"]:(s + 1) * recipe["batch"]]
            xb, yb = train_x[idx], train_y[idx]
            if recipe["augment"]:
                xb = augment(xb, gen, crop=recipe["augment"] == "crop+flip")
            out = model(xb)
            loss = F.cross_entropy(out, yb, label_smoothing=0.1 if recipe["augment"] else 0.0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += float(loss) * len(idx)
            correct += int((out.argmax(1) == yb).sum())
            seen += len(idx)
        log(f"[{name}] epoch {epoch + 1}/{recipe['epochs']} loss={loss_sum / seen:.4f} "
            f"train_acc={100.0 * correct / seen:.2f}% elapsed={time.time() - start:.1f}s")
    return model, time.time() - start


@torch.no_grad()
def evaluate(model, x, y, batch=500):
    model.eval()
    top1 = top5 = 0
    for s in range(0, len(x), batch):
        out = model(x[s:s + batch])
        yb = y[s:s + batch]
        top1 += int((out.argmax(1) == yb).sum())
        top5 += int((out.topk(5, dim=1).indices == yb[:, None]).any(1).sum())
    return top1, top5


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def export(model, sample, path, opset):
    model.eval()
    torch.onnx.export(model, sample, path, opset_version=opset, input_names=["input"],
                      output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    return sorted({n.op_type for n in m.graph.node})


def export_student(model, sample, path, opset):
    """Exports an untrained student in eval mode without the exporter's eval-mode BatchNorm
    folding (TrainingMode.PRESERVE on a model in eval mode): BatchNormalization stays a node
    in inference form, which a trainer runs with batch statistics."""
    model.eval()
    torch.onnx.export(model, sample, path, opset_version=opset, input_names=["input"],
                      output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    return sorted({n.op_type for n in m.graph.node})


def build_students(log):
    results = {}
    for name, recipe in STUDENTS.items():
        seed_everything(recipe["seed"])
        model = recipe["build"]()
        sample = torch.zeros(1, 1, 28, 28)
        files, ops = {}, {}
        for opset in OPSETS:
            fname = f"{name}_op{opset}.onnx"
            path = os.path.join(HERE, fname)
            ops[f"op{opset}"] = export_student(model, sample, path, opset)
            files[f"op{opset}"] = {"file": fname, "bytes": os.path.getsize(path), "sha256": sha256(path)}
            log(f"[{name}] exported {fname} ({os.path.getsize(path)} bytes), untrained, ops={ops[f'op{opset}']}")
        results[name] = {
            "description": recipe["build"].__doc__.strip().split("\n")[0],
            "files": files, "ops": ops, "params": count_params(model), "seed": recipe["seed"],
            "weights": "untrained (seeded initialisation)", "torch": torch.__version__,
            "input": {"name": "input", "shape": ["batch", 1, 28, 28]},
            "output": {"name": "logits", "shape": ["batch", 10]},
        }
    return results


def write_pb(array, name, path):
    tensor = numpy_helper.from_array(np.ascontiguousarray(array), name=name)
    with open(path, "wb") as f:
        f.write(tensor.SerializeToString())


# ---------------------------------------------------------------------------------------------
# Main


def build_trained(names, data_dir, log, threads, done):
    """Trains, evaluates and exports each model, calling done(name, manifest_entry)."""
    train_x, train_y = load_split(data_dir, "train")
    test_x, test_y = load_split(data_dir, "test")
    log(f"data: {data_dir} train={tuple(train_x.shape)} test={tuple(test_x.shape)} "
        f"measured mean={float(train_x.mean()):.4f} std={float(train_x.std()):.4f} "
        f"(model constants {FASHION_MEAN}/{FASHION_STD})")
    results = {}
    for name in names:
        recipe = RECIPES[name]
        model, seconds = train(name, recipe, train_x, train_y, log)
        top1, top5 = evaluate(model, test_x, test_y)
        n = len(test_x)
        log(f"[{name}] test top1={100.0 * top1 / n:.2f}% ({top1}/{n}) "
            f"top5={100.0 * top5 / n:.2f}% train_time={seconds:.1f}s")
        files, ops = {}, {}
        for opset in OPSETS:
            fname = f"{name}_op{opset}.onnx"
            path = os.path.join(HERE, fname)
            ops[f"op{opset}"] = export(model, test_x[:1], path, opset)
            files[f"op{opset}"] = {"file": fname, "bytes": os.path.getsize(path),
                                   "sha256": sha256(path)}
            log(f"[{name}] exported {fname} ({os.path.getsize(path)} bytes) ops={ops[f'op{opset}']}")
        # Backend-test style reference data: first 8 test images and the PyTorch logits.
        tdir = os.path.join(HERE, "testdata", name)
        os.makedirs(tdir, exist_ok=True)
        with torch.no_grad():
            logits = model(test_x[:8]).numpy()
        write_pb(test_x[:8].numpy(), "input", os.path.join(tdir, "input_0.pb"))
        write_pb(logits, "logits", os.path.join(tdir, "output_0.pb"))
        results[name] = {
            "description": (recipe["build"].__doc__ or recipe["build"].__name__).strip().split("\n")[0],
            "files": files,
            "opsets": list(OPSETS),
            "ops": ops,
            "input": {"name": "input", "shape": ["batch", 1, 28, 28], "dtype": "float32",
                      "range": [0, 1], "normalization_inside": {"mean": FASHION_MEAN,
                                                                "std": FASHION_STD}},
            "output": {"name": "logits", "shape": ["batch", 10], "dtype": "float32"},
            "params": count_params(model),
            "test_images": n,
            "top1_percent": round(100.0 * top1 / n, 2),
            "top1_correct": top1,
            "top5_percent": round(100.0 * top5 / n, 2),
            "top5_correct": top5,
            "train_seconds": round(seconds, 1),
            "epochs": recipe["epochs"],
            "seed": recipe["seed"],
            "threads": threads,
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "testdata": {"dir": f"testdata/{name}", "images": 8,
                         "labels": [int(v) for v in test_y[:8]]},
        }
        done(name, results[name])
    return results


def build_torchvision(log):
    import torchvision
    out_dir = os.path.join(HERE, "torchvision")
    os.makedirs(out_dir, exist_ok=True)
    results = {}
    for i, arch in enumerate(["resnet18", "mobilenet_v2", "efficientnet_b0", "resnet50"]):
        torch.manual_seed(100 + i)
        model = getattr(torchvision.models, arch)(weights=None).eval()
        sample = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(100 + i))
        files = {}
        for opset in OPSETS:
            fname = f"{arch}_op{opset}.onnx"
            path = os.path.join(out_dir, fname)
            export(model, sample, path, opset)
            files[f"op{opset}"] = {"file": f"torchvision/{fname}", "bytes": os.path.getsize(path)}
            log(f"[{arch}] exported {fname} ({os.path.getsize(path)} bytes), random weights")
        results[arch] = {"files": files, "params": count_params(model), "seed": 100 + i,
                         "torch": torch.__version__, "torchvision": torchvision.__version__,
                         "weights": "random (seeded), untrained",
                         "input": {"name": "input", "shape": ["batch", 3, 224, 224]}}
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", choices=sorted(RECIPES),
                    help="train only this model (repeatable); models.json keeps the others' entries")
    ap.add_argument("--torchvision", action="store_true",
                    help="also export random-weight resnet18/mobilenet_v2/efficientnet_b0/resnet50 into torchvision/")
    ap.add_argument("--students", action="store_true",
                    help="also export the untrained user students (fashion_student) for distillation")
    ap.add_argument("--no-train", action="store_true", help="train nothing (with --torchvision or --students)")
    ap.add_argument("--data", default=DEFAULT_DATA, help="folder with the Fashion-MNIST IDX files")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (results depend on it)")
    args = ap.parse_args()

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # tiny gradients must not drop onto the slow denormal path
    # Only training runs go into the committed log: the exports that tests trigger
    # (--torchvision/--students with --no-train) must not modify the checkout.
    log = Log(None if args.no_train else os.path.join(HERE, "train_log.txt"))
    log(f"=== generate.py {time.strftime('%Y-%m-%d %H:%M:%S')} torch={torch.__version__} "
        f"onnx={onnx.__version__} numpy={np.__version__} python={platform.python_version()} "
        f"threads={torch.get_num_threads()} args={sys.argv[1:]}")

    if not args.no_train:
        build_trained(args.only or list(RECIPES), args.data, log, args.threads,
                      lambda name, entry: update_manifest({name: entry}, None, log))
    if args.torchvision:
        update_manifest({}, build_torchvision(log), log)
    if args.students:
        update_manifest({}, None, log, students=build_students(log))


def update_manifest(trained, tv, log, students=None):
    """Merges entries into models.json. The file is read just before writing, so entries
    written by another run meanwhile (a --torchvision export, another --only model) stay."""
    manifest_path = os.path.join(HERE, "models.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    manifest["generator"] = {"command": "/usr/bin/python3 testmodels/generate.py",
                             "deterministic_algorithms": True,
                             "note": "torch version and thread count are recorded per model"}
    manifest.setdefault("models", {}).update(trained)
    if tv is not None:
        manifest["torchvision"] = tv
    if students is not None:
        manifest.setdefault("students", {}).update(students)
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    log(f"updated {manifest_path}")


if __name__ == "__main__":
    main()
