"""PyTorch reference for `whittle distill` (run with Debian's /usr/bin/python3).

Trains a student ONNX file on a teacher ONNX file's outputs with the loss whittle uses,
alpha*T^2*KL(softmax(teacher/T) || softmax(student/T)) + (1-alpha)*CE(labels) (kl_div with
batchmean), on Fashion-MNIST, with the same data order and augmentation draws as whittle's
data.Loader, the same optimizer (torch.optim SGD with Nesterov momentum, or AdamW) and the
same per-step schedule. Both graphs run as PyTorch computations through
train/torchref/onnx_torch.py (the teacher in eval mode without gradients, the student in
training mode: BatchNormalization on batch statistics).

The student file is the untrained student whittle starts from: for auto and lowrank
students `whittle distill ... --epochs 0` writes it; a user student is its own file.

    kd.py TEACHER.onnx STUDENT.onnx --data FMNIST_DIR --epochs N --batch 128 --lr 0.05 \\
        --optimizer sgd --temperature 4 --alpha 0.9 --seed 1 --augment flip --threads 1 \\
        [--limit ROWS] [--labels-only] [--json OUT.json] [--save TRAINED.onnx]

prints a line per epoch (loss, train accuracy, seconds, test accuracy on all 10,000 images
unless --val-limit) and writes the same as JSON.
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "train", "torchref"))
import onnx_torch as ot  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("teacher")
    ap.add_argument("student")
    ap.add_argument("--data", required=True, help="Fashion-MNIST IDX folder")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=-1, help="default 0.05 with sgd, 0.002 with adamw (whittle's)")
    ap.add_argument("--optimizer", default="sgd")
    ap.add_argument("--weight-decay", type=float, default=-1, help="default 5e-4 with sgd, 0.01 with adamw")
    ap.add_argument("--temperature", type=float, default=4)
    ap.add_argument("--alpha", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--augment", default="flip")
    ap.add_argument("--labels-only", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N training images")
    ap.add_argument("--val-limit", type=int, default=0, help="evaluate on the first N test images")
    ap.add_argument("--json", default="")
    ap.add_argument("--save", default="", help="write the trained student here (initializers replaced)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    teacher = ot.OnnxModule(args.teacher, lambda name, t: False)
    teacher.training = False
    teacher.fast_linear = True
    student = ot.OnnxModule(args.student, lambda name, t: t.numel() > 1)
    student.fast_linear = True
    xs, ys = ot.load_split(args.data, "train")
    vx, vy = ot.load_split(args.data, "test")
    if args.limit:
        xs, ys = xs[:args.limit], ys[:args.limit]
    if args.val_limit:
        vx, vy = vx[:args.val_limit], vy[:args.val_limit]
    params = [student.params[k] for k in student.params]
    if args.optimizer == "sgd":
        lr = 0.05 if args.lr < 0 else args.lr
        wd = 5e-4 if args.weight_decay < 0 else args.weight_decay
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd)
    else:
        lr = 2e-3 if args.lr < 0 else args.lr
        wd = 0.01 if args.weight_decay < 0 else args.weight_decay
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    n = len(ys)
    steps = (n + args.batch - 1) // args.batch
    total = steps * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: ot.schedule_factor("cosine", 0, s, total))
    crop, flip = 0, False
    for part in args.augment.split(","):
        if part == "flip":
            flip = True
        elif part.startswith("crop:"):
            crop = int(part[5:])
    T, alpha = args.temperature, args.alpha
    report = {"teacher": args.teacher, "student": args.student, "threads": torch.get_num_threads(),
              "torch": torch.__version__, "args": vars(args), "epochs": []}
    for epoch in range(1, args.epochs + 1):
        order = ot.perm(ot.mix(args.seed, 1, epoch), n)
        aseed = ot.mix(args.seed, 2, epoch)
        t0 = time.time()
        loss_sum = correct = 0
        for s in range(steps):
            rows = order[s * args.batch:(s + 1) * args.batch]
            idx = torch.tensor(rows)
            xb = ot.augment(xs[idx], rows, aseed, crop, flip)
            yb = ys[idx]
            (logits,), _ = student({student.inputs[0]: xb})
            if args.labels_only:
                loss = F.cross_entropy(logits, yb)
            else:
                with torch.no_grad():
                    (tl,), _ = teacher({teacher.inputs[0]: xb})
                kd = F.kl_div(F.log_softmax(logits / T, 1), F.softmax(tl / T, 1), reduction="batchmean") * T * T
                loss = alpha * kd + (1 - alpha) * F.cross_entropy(logits, yb) if alpha < 1 else kd
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(rows)
            correct += int((logits.argmax(1) == yb).sum())
        secs = time.time() - t0
        val = ot.evaluate(student, vx, vy)
        e = {"epoch": epoch, "loss": loss_sum / n, "accuracy": 100 * correct / n, "seconds": secs,
             "val_correct": val, "val_accuracy": 100 * val / len(vy)}
        report["epochs"].append(e)
        print("epoch %d/%d  loss %.4f  train %.2f%%  %.1f s (%.0f img/s)  test %.2f%% (%d/%d)" % (
            epoch, args.epochs, e["loss"], e["accuracy"], secs, n / secs, e["val_accuracy"], val, len(vy)),
            file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    if args.save:
        m = student.model
        vals = student.values()
        for init in m.graph.initializer:
            if init.name in vals:
                init.CopyFrom(numpy_helper.from_array(vals[init.name].detach().numpy(), init.name))
        import onnx
        onnx.save(m, args.save)


if __name__ == "__main__":
    main()
