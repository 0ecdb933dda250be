#!/bin/sh
# Time per epoch of whittle finetune against the same fine-tune in PyTorch
# (onnx_torch.py), alternating runs so that both see the same machine load:
#
#   train/torchref/speed.sh MODEL.onnx [ROWS] [ROUNDS]
#
# Each run trains one epoch over the first ROWS (default 12800) Fashion-MNIST training
# images, batch 128, THREADS threads (default 2), and prints its seconds per epoch; the last line is the
# median ratio PyTorch/whittle (above 1: whittle is faster). Set WHITTLE to a built binary,
# NICE to a nice(1) increment for every run. Both sides run the same recipe (SGD, Nesterov
# momentum 0.9, weight decay 5e-4, cosine, lr 0.02, flips, seed 1).
set -eu
model=$1
rows=${2:-12800}
rounds=${3:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
whittle=${WHITTLE:-whittle}
threads=${THREADS:-2}
nice=${NICE:-0}
fmnist=${WHITTLE_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq "$rounds"); do
	nice -n "$nice" "$whittle" finetune "$model" -o "$tmp/w.onnx" --data "fashion-mnist:train:$rows" --epochs 1 --batch 128 --lr 0.02 \
		--augment flip --threads "$threads" --json 2>/dev/null > "$tmp/w.json"
	w=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['fit']['epochs'][0]['seconds'])" "$tmp/w.json")
	nice -n "$nice" /usr/bin/python3 "$root/train/torchref/onnx_torch.py" finetune "$model" --data "$fmnist" --limit "$rows" --epochs 1 \
		--batch 128 --lr 0.02 --augment flip --threads "$threads" --json "$tmp/t.json" 2>/dev/null
	t=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['epochs'][0]['seconds'])" "$tmp/t.json")
	echo "round $i: whittle $w s, PyTorch $t s" | tee -a "$tmp/rounds"
done
/usr/bin/python3 - "$tmp/rounds" <<'PY'
import re, statistics, sys
r = [float(t) / float(w) for w, t in re.findall(r"whittle ([0-9.]+) s, PyTorch ([0-9.]+) s", open(sys.argv[1]).read())]
print("median PyTorch/whittle time ratio: %.2f (rounds: %s)" % (statistics.median(r), ", ".join("%.2f" % x for x in r)))
PY
