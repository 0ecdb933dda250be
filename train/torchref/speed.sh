#!/bin/sh
# Time per epoch of whittle finetune against the same fine-tune in PyTorch
# (onnx_torch.py), alternating runs so that both see the same machine load:
#
#   train/torchref/speed.sh MODEL.onnx [ROWS] [ROUNDS]
#
# Each run trains one epoch over the first ROWS (default 12800) Fashion-MNIST training
# images, batch 128, THREADS threads (default 2), and prints its wall and CPU seconds per
# epoch (CPU: the process's user+system time over the epoch's training steps, every thread
# counted); the last lines are the median ratios PyTorch/whittle of each (above 1: whittle
# is faster). On a shared machine the CPU ratio is the steadier one. Set WHITTLE to a built binary,
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
	w=$(/usr/bin/python3 -c "import json,sys; e=json.load(open(sys.argv[1]))['fit']['epochs'][0]; print(e['seconds'], e['cpu_seconds'])" "$tmp/w.json")
	nice -n "$nice" /usr/bin/python3 "$root/train/torchref/onnx_torch.py" finetune "$model" --data "$fmnist" --limit "$rows" --epochs 1 \
		--batch 128 --lr 0.02 --augment flip --threads "$threads" --json "$tmp/t.json" 2>/dev/null
	t=$(/usr/bin/python3 -c "import json,sys; e=json.load(open(sys.argv[1]))['epochs'][0]; print(e['seconds'], e['cpu_seconds'])" "$tmp/t.json")
	set -- $w $t
	echo "round $i: whittle $1 s (CPU $2 s), PyTorch $3 s (CPU $4 s)" | tee -a "$tmp/rounds"
done
/usr/bin/python3 - "$tmp/rounds" <<'PY'
import re, statistics, sys
rounds = re.findall(r"whittle ([0-9.]+) s \(CPU ([0-9.]+) s\), PyTorch ([0-9.]+) s \(CPU ([0-9.]+) s\)", open(sys.argv[1]).read())
for name, k in (("wall", 0), ("CPU", 1)):
    r = [float(x[2 + k]) / float(x[k]) for x in rounds]
    print("median PyTorch/whittle %s time ratio: %.2f (rounds: %s)" % (name, statistics.median(r), ", ".join("%.2f" % x for x in r)))
PY
