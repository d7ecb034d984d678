#!/bin/sh
# SFT and CKD training steps against PyTorch, in the same run, interleaved:
#   Go: BenchmarkSFTStep / BenchmarkCKDStep (bare step) and BenchmarkSFTLoop /
#       BenchmarkCKDLoop (the whole loop: data, micro-batches, top-k from a
#       STORE, metrics; checkpoint writes excluded), package train;
#   PyTorch: bench/torch_ckd.py sft|ckd at 1 and 2 threads (the better is used).
# Shape: `star bench train`'s (vocab 8192, hidden 256, 4 layers, 4 × 256 tokens).
#
#   bench/compare_train.sh                 # STEPS=3 timed steps each
#   STEPS=5 REPEAT=3 bench/compare_train.sh   # best of 3 runs each, interleaved
set -eu
cd "$(dirname "$0")/.."
STEPS=${STEPS:-3}
REPEAT=${REPEAT:-1}
PY=""
for p in ${PYTHON:-} python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' >/dev/null 2>&1; then
		PY=$p
		break
	fi
done
rate() { sed -n 's/.* \([0-9.]*\) tokens\/s$/\1/p' | tail -1; }
torch() { # mode → best tokens/s over 1 and 2 threads
	[ -n "$PY" ] || { echo 0; return; }
	a=$("$PY" bench/torch_ckd.py "$1" --threads 1 --steps "$STEPS" | sed -n 's/^tokens\/s: //p')
	b=$("$PY" bench/torch_ckd.py "$1" --threads 2 --steps "$STEPS" | sed -n 's/^tokens\/s: //p')
	echo "$a $b" | awk '{print ($1 > $2) ? $1 : $2}'
}
best() { echo "$1 $2" | awk '{print ($1 > $2) ? $1 : $2}'; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
go test -c -o "$TMP/train.test" ./train/
gobench() { "$TMP/train.test" -test.run '^$' -test.bench "$1\$" -test.benchtime "${STEPS}x" 2>/dev/null | grep "^Benchmark" | rate; }
for mode in SFT CKD; do
	step=0 loop=0 pt=0
	for _ in $(seq "$REPEAT"); do
		step=$(best "$step" "$(gobench ${mode}Step)")
		pt=$(best "$pt" "$(torch "$(echo $mode | tr A-Z a-z)")")
		loop=$(best "$loop" "$(gobench ${mode}Loop)")
	done
	echo "$mode: Go step $step tokens/s, Go loop $loop, PyTorch $pt (best of 1/2 threads)" |
		awk -v s="$step" -v l="$loop" -v p="$pt" '{ if (p > 0) printf "%s → step %.2f×, loop %.2f× PyTorch\n", $0, s/p, l/p; else print $0 " (no PyTorch)" }'
done
