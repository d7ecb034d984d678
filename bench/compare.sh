#!/bin/sh
# Compare `star bench` with the PyTorch baseline (bench/torch_qwen3.py) on the
# same shapes, in the same run, and print Go/PyTorch ratios.
#
#   bench/compare.sh            # default shape, 5 training steps, decode at batch 1 and 8
#   STEPS=10 REPEAT=3 bench/compare.sh   # best of 3 runs each
#
# PyTorch runs float32 with 2 threads (Debian: apt-get install python3-torch;
# install libopenblas0-pthread too, or torch falls back to the reference BLAS
# and runs ~8x slower). Skips the comparison when torch is missing.
set -eu
cd "$(dirname "$0")/.."
STEPS=${STEPS:-5}
THREADS=${THREADS:-2}
REPEAT=${REPEAT:-1}

PY=""
for p in ${PYTHON:-} python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' >/dev/null 2>&1; then
		PY=$p
		break
	fi
done

BIN=$(mktemp -d)/star
trap 'rm -rf "$(dirname "$BIN")"' EXIT
# SIMD matmul kernels need GOEXPERIMENT=simd (Go ≥ 1.26 on amd64); fall back without.
if ! GOEXPERIMENT=simd go build -o "$BIN" ./cmd/star 2>/dev/null; then
	echo "note: building without GOEXPERIMENT=simd" >&2
	go build -o "$BIN" ./cmd/star
fi

# run CMD...: show its output on stderr and print its "tokens/s: N" value,
# the best of $REPEAT runs (the machine may be shared: best-of-N is the
# least noisy estimate of what each side can do).
run() {
	best=0
	i=0
	while [ "$i" -lt "$REPEAT" ]; do
		i=$((i + 1))
		out=$("$@" 2>/dev/null) || { echo "failed: $*" >&2; continue; }
		printf '%s\n' "$out" >&2
		v=$(printf '%s\n' "$out" | awk '/^tokens\/s:/ {v = $2} END {print v + 0}')
		best=$(awk -v a="$best" -v b="$v" 'BEGIN { print (b > a) ? b : a }')
	done
	echo "$best"
}

go_train=$(run "$BIN" bench train --steps "$STEPS")
go_gen1=$(run "$BIN" bench generate --batch 1)
go_gen8=$(run "$BIN" bench generate --batch 8)

if [ -z "$PY" ]; then
	echo "PyTorch not found (apt-get install python3-torch): Go only"
	printf 'go train tokens/s: %s\ngo decode b1 tokens/s: %s\ngo decode b8 tokens/s: %s\n' "$go_train" "$go_gen1" "$go_gen8"
	exit 0
fi

export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
pt_train=$(run "$PY" bench/torch_qwen3.py train --steps "$STEPS" --threads "$THREADS")
pt_gen1=$(run "$PY" bench/torch_qwen3.py generate --batch 1 --threads "$THREADS")
pt_gen8=$(run "$PY" bench/torch_qwen3.py generate --batch 8 --threads "$THREADS")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
printf '%-22s %10s %10s %8s\n' "tokens/s" go pytorch ratio
printf '%-22s %10s %10s %8s\n' "train step" "$go_train" "$pt_train" "$(ratio "$go_train" "$pt_train")"
printf '%-22s %10s %10s %8s\n' "decode batch 1" "$go_gen1" "$pt_gen1" "$(ratio "$go_gen1" "$pt_gen1")"
printf '%-22s %10s %10s %8s\n' "decode batch 8" "$go_gen8" "$pt_gen8" "$(ratio "$go_gen8" "$pt_gen8")"
