#!/bin/sh
# Recovery of the pruned Fashion-MNIST CNN teacher by fine-tuning, in whittle and, back to
# back with the same recipe, in PyTorch (train/torchref/onnx_torch.py): the figures of the
# README's "fine-tuned" column and training section. Long (hours on 2 busy cores):
#
#   train/torchref/recovery.sh OUTDIR [EPOCHS]
#
# writes OUTDIR/{c25,c50,u90}.onnx (pruned), OUTDIR/*_ft.onnx (fine-tuned by whittle),
# OUTDIR/*_whittle.json and *_torch.json (per-epoch loss, accuracy, seconds) and
# OUTDIR/*.log. Set WHITTLE to a built binary (default: go run ./cmd/whittle).
set -eu
out=$1
epochs=${2:-4}
root=$(cd "$(dirname "$0")/../.." && pwd)
whittle=${WHITTLE:-}
if [ -z "$whittle" ]; then
	go build -o "$out/whittle" "$root/cmd/whittle"
	whittle=$out/whittle
fi
fmnist=${WHITTLE_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
teacher=$root/testmodels/fashion_cnn_op17.onnx
recipe="--epochs $epochs --batch 128 --lr 0.02 --optimizer sgd --momentum 0.9 --weight-decay 5e-4 --schedule cosine --seed 1 --augment flip"
mkdir -p "$out"
"$whittle" prune "$teacher" -o "$out/c25.onnx" --pattern channel --sparsity 0.25 > "$out/c25_prune.txt"
"$whittle" prune "$teacher" -o "$out/c50.onnx" --pattern channel --sparsity 0.5 > "$out/c50_prune.txt"
"$whittle" prune "$teacher" -o "$out/u90.onnx" --sparsity 0.9 --scope global > "$out/u90_prune.txt"
for v in c25 c50 u90; do
	/usr/bin/time -v "$whittle" finetune "$out/$v.onnx" -o "$out/${v}_ft.onnx" --data fashion-mnist:train \
		--val fashion-mnist:test $recipe --threads 2 --json > "$out/${v}_whittle.json" 2> "$out/${v}_whittle.log"
	/usr/bin/time -v /usr/bin/python3 "$root/train/torchref/onnx_torch.py" finetune "$out/$v.onnx" --data "$fmnist" \
		--epochs "$epochs" --batch 128 --lr 0.02 --optimizer sgd --momentum 0.9 --nesterov 1 --weight-decay 5e-4 \
		--schedule cosine --seed 1 --augment flip --keep-masks 1 --threads 2 --json "$out/${v}_torch.json" 2> "$out/${v}_torch.log"
	"$whittle" eval "$out/${v}_ft.onnx" --data fashion-mnist:test > "$out/${v}_eval.txt"
done
# Determinism: the same command twice gives the same bytes.
for i in 1 2; do
	"$whittle" finetune "$out/c50.onnx" -o "$out/c50_det$i.onnx" --data fashion-mnist:train:10000 --epochs 1 --seed 3 --augment flip --threads 2 > /dev/null
done
cmp "$out/c50_det1.onnx" "$out/c50_det2.onnx" && echo "determinism: c50_det1.onnx and c50_det2.onnx are identical" | tee "$out/determinism.txt"
