#!/bin/sh
# Recovery of the pruned Fashion-MNIST CNN teacher by fine-tuning, in whittle and, with the
# same recipe, in PyTorch (train/torchref/onnx_torch.py): the figures of the README's
# "fine-tuned" column and training section.
#
#   train/torchref/recovery.sh OUTDIR [MODEL=EPOCHS ...]
#
# MODEL is c25 or c50 (channel pruning 25%, 50%) or u90 (global unstructured 90%);
# without arguments each of the three trains 4 epochs (c25=4 c50=4 u90=4).
# writes OUTDIR/{c25,c50,u90}.onnx (pruned), OUTDIR/*_ft.onnx (fine-tuned by whittle),
# OUTDIR/*_whittle.json and *_torch.json (per-epoch loss, accuracy, seconds), *_eval.txt
# (whittle eval of each output on the 10k test images) and OUTDIR/*.log (with the CPU and
# wall time of every run from /usr/bin/time -v).
#
# Both sides run the same recipe: SGD with Nesterov momentum 0.9 (whittle's --nesterov
# defaults to true; it is passed explicitly on both sides), weight decay 5e-4, cosine
# schedule per step, batch 128, lr 0.02, horizontal flips, seed 1, pruned weights kept at
# zero, the full 60k training split, evaluation on the 10k test split after every epoch.
#
# Environment: WHITTLE a built binary (default: built into OUTDIR); THREADS threads of each
# run (default 2); PARALLEL=1 starts all six fine-tunes at once (each whittle run beside
# its PyTorch twin, so both see the same machine load) instead of one after another;
# NICE a nice(1) increment for every run (default 0).
#
# On one thread of an AMD EPYC (AVX2+FMA) an epoch costs whittle about 130 (c50), 210 (c25)
# and 300 (u90) CPU seconds, PyTorch about half (speed.sh, 2026-12-04); on a 2-core machine
# shared with other jobs, c25=1 c50=2 u90=1 side by side took 45-61 minutes.
set -eu
out=$1
shift
runs=${*:-c25=4 c50=4 u90=4}
threads=${THREADS:-2}
nice=${NICE:-0}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
whittle=${WHITTLE:-}
if [ -z "$whittle" ]; then
	go build -o "$out/whittle" "$root/cmd/whittle"
	whittle=$out/whittle
fi
fmnist=${WHITTLE_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
teacher=$root/testmodels/fashion_cnn_op17.onnx
common="--batch 128 --lr 0.02 --optimizer sgd --momentum 0.9 --weight-decay 5e-4 --schedule cosine --seed 1 --augment flip"
for r in $runs; do
	v=${r%%=*}
	case $v in
	c25) flags="--pattern channel --sparsity 0.25" ;;
	c50) flags="--pattern channel --sparsity 0.5" ;;
	u90) flags="--sparsity 0.9 --scope global" ;;
	*) echo "recovery.sh: unknown model $v (c25, c50 or u90)" >&2; exit 2 ;;
	esac
	"$whittle" prune "$teacher" -o "$out/$v.onnx" $flags > "$out/${v}_prune.txt"
done

run_whittle() { # model epochs
	/usr/bin/time -v nice -n "$nice" "$whittle" finetune "$out/$1.onnx" -o "$out/${1}_ft.onnx" \
		--data fashion-mnist:train --val fashion-mnist:test --epochs "$2" $common --nesterov=true \
		--keep-masks=true --threads "$threads" --json > "$out/${1}_whittle.json" 2> "$out/${1}_whittle.log"
	"$whittle" eval "$out/${1}_ft.onnx" --data fashion-mnist:test > "$out/${1}_eval.txt"
}
run_torch() { # model epochs
	/usr/bin/time -v nice -n "$nice" /usr/bin/python3 "$root/train/torchref/onnx_torch.py" finetune "$out/$1.onnx" \
		--data "$fmnist" --epochs "$2" $common --nesterov 1 --keep-masks 1 --threads "$threads" \
		--json "$out/${1}_torch.json" 2> "$out/${1}_torch.log"
}

if [ "${PARALLEL:-0}" = 1 ]; then
	pids=
	for r in $runs; do
		run_whittle "${r%%=*}" "${r#*=}" & pids="$pids $!"
		run_torch "${r%%=*}" "${r#*=}" & pids="$pids $!"
	done
	fail=0
	for p in $pids; do wait "$p" || fail=1; done
	[ "$fail" = 0 ]
else
	for r in $runs; do
		run_whittle "${r%%=*}" "${r#*=}"
		run_torch "${r%%=*}" "${r#*=}"
	done
fi

# Determinism: the same command twice gives the same bytes (DETERMINISM=0 skips it).
[ "${DETERMINISM:-1}" = 1 ] || exit 0
"$whittle" prune "$teacher" -o "$out/c50.onnx" --pattern channel --sparsity 0.5 > /dev/null
for i in 1 2; do
	nice -n "$nice" "$whittle" finetune "$out/c50.onnx" -o "$out/c50_det$i.onnx" --data fashion-mnist:train:10000 \
		--epochs 1 --seed 3 --augment flip --threads "$threads" > /dev/null 2>&1
done
cmp "$out/c50_det1.onnx" "$out/c50_det2.onnx" && echo "determinism: c50_det1.onnx and c50_det2.onnx are identical" | tee "$out/determinism.txt"
