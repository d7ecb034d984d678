#!/bin/sh
# Compare `star bench` with its peers on the same shapes, in the same run,
# interleaved, each peer at its best configuration:
#   - PyTorch (bench/torch_qwen3.py, float32) at 1 and at 2 threads: on small
#     shapes one thread is often faster, so both are measured and the ratio is
#     taken against the better of the two;
#   - llama.cpp's llama-batched-bench (decode only), when bench/llamacpp.sh has
#     built it (LLAMA_BENCH=path overrides), on the same weights exported with
#     `star export gguf` (F32, the Qwen3 tokenizer of $STAR_SHARED/fixtures/qwen3
#     cut to the model's vocabulary by bench/gguf_tokenizer.py), F32 KV cache,
#     flash attention off, at 1 and at 2 threads (ggml's threads spin: on a
#     loaded 2-core machine 2 threads can be 50x slower), ratio to the better.
#
#   bench/compare.sh                       # default shape, 5 training steps, decode at batch 1 and 8
#   STEPS=10 REPEAT=3 bench/compare.sh     # best of 3 runs each
#   SHAPE="--vocab 32768 --hidden 1024 --layers 2 --heads 16 --kv-heads 8 --head-dim 128 --intermediate 3072" \
#     TRAIN="--seq 256 --batch 2" bench/compare.sh      # Qwen3-0.6B's width
#
# PyTorch: Debian's python3-torch with libopenblas0-pthread (without it torch
# falls back to the reference BLAS and runs ~8x slower). Missing peers are
# skipped with a message; the Go figures are always printed.
set -eu
cd "$(dirname "$0")/.."
STEPS=${STEPS:-5}
REPEAT=${REPEAT:-1}
# SHAPE: the model (the same flags for star, PyTorch and `star model init`);
# TRAIN: the training batch.
SHAPE=${SHAPE:---vocab 8192 --hidden 256 --layers 4 --heads 8 --kv-heads 2 --head-dim 32 --intermediate 768}
TRAIN=${TRAIN:---seq 256 --batch 4}

PY=""
for p in ${PYTHON:-} python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' >/dev/null 2>&1; then
		PY=$p
		break
	fi
done
LLAMA_BENCH=${LLAMA_BENCH:-bench/llama.cpp/build/bin/llama-batched-bench}

TMP=$(mktemp -d)
BIN=$TMP/star
trap 'rm -rf "$TMP"' EXIT
# SIMD matmul kernels need GOEXPERIMENT=simd (Go ≥ 1.26 on amd64); fall back without.
if ! GOEXPERIMENT=simd go build -o "$BIN" ./cmd/star 2>/dev/null; then
	echo "note: building without GOEXPERIMENT=simd" >&2
	go build -o "$BIN" ./cmd/star
fi

# one CMD...: run it once, show its output on stderr, print its "tokens/s: N".
one() {
	out=$("$@" 2>/dev/null) || { echo "failed: $*" >&2; echo 0; return; }
	printf '%s\n' "$out" >&2
	printf '%s\n' "$out" | awk '/^tokens\/s:/ {v = $2} END {print v + 0}'
}
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a) ? b : a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# llama-batched-bench prints a table whose last column is the total speed;
# S_TG (decode tokens/s) is the 8th column of its data row.
llama_decode() {
	batch=$1 threads=$2
	out=$("$LLAMA_BENCH" -m "$TMP/model.gguf" -c 4096 -b 2048 -ub 512 -npp 128 -ntg 128 -npl "$batch" -t "$threads" \
		-fa off -ctk f32 -ctv f32 2>/dev/null) ||
		{ echo "failed: llama-batched-bench" >&2; echo 0; return; }
	printf '%s\n' "$out" >&2
	printf '%s\n' "$out" | awk -F'|' 'NF > 8 && $2 ~ /^ *[0-9]+ *$/ {gsub(/ /, "", $9); v = $9} END {print v + 0}'
}

HAVE_LLAMA=""
if [ -x "$LLAMA_BENCH" ]; then
	# shellcheck disable=SC2086
	"$BIN" model init $SHAPE --seed 1 -o "$TMP/model" >/dev/null 2>&1 &&
		python3 bench/gguf_tokenizer.py "${STAR_SHARED:-../shared}/fixtures/qwen3" "$TMP/model" \
			"$(sed -n 's/.*"vocab_size": *\([0-9]*\).*/\1/p' "$TMP/model/config.json")" &&
		"$BIN" export gguf "$TMP/model" -o "$TMP/model.gguf" --type f32 >/dev/null && HAVE_LLAMA=1
	[ -n "$HAVE_LLAMA" ] || echo "llama.cpp: could not export the GGUF model (needs python3, star export gguf and \$STAR_SHARED/fixtures/qwen3): skipped" >&2
else
	echo "llama.cpp: $LLAMA_BENCH not built (bash bench/llamacpp.sh): skipped" >&2
fi
[ -n "$PY" ] || echo "PyTorch not found (apt-get install python3-torch libopenblas0-pthread): skipped" >&2

# measure NAME GO_ARGS PY_ARGS LLAMA_BATCH: interleaved rounds of Go, PyTorch
# at 1 and 2 threads and llama.cpp, best of $REPEAT for each.
measure() {
	name=$1 goargs=$2 pyargs=$3 lb=$4
	g=0 p1=0 p2=0 l1=0 l2=0
	i=0
	while [ "$i" -lt "$REPEAT" ]; do
		i=$((i + 1))
		# shellcheck disable=SC2086
		g=$(max "$g" "$(one "$BIN" $goargs $SHAPE)")
		if [ -n "$PY" ]; then
			# shellcheck disable=SC2086
			p1=$(max "$p1" "$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 one "$PY" bench/torch_qwen3.py $pyargs $SHAPE --threads 1)")
			# shellcheck disable=SC2086
			p2=$(max "$p2" "$(OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 one "$PY" bench/torch_qwen3.py $pyargs $SHAPE --threads 2)")
		fi
		if [ -n "$HAVE_LLAMA" ] && [ "$lb" != "-" ]; then
			l1=$(max "$l1" "$(llama_decode "$lb" 1)")
			l2=$(max "$l2" "$(llama_decode "$lb" 2)")
		fi
	done
	pbest=$(max "$p1" "$p2")
	lbest=$(max "$l1" "$l2")
	printf '%-16s %9s %9s %9s %9s %9s %10s %10s\n' "$name" "$g" "$p1" "$p2" "$l1" "$l2" "$(ratio "$g" "$pbest")" "$(ratio "$g" "$lbest")" >>"$TMP/table"
}

measure "train step" "bench train --steps $STEPS $TRAIN" "train --steps $STEPS $TRAIN" -
measure "decode batch 1" "bench generate --batch 1" "generate --batch 1" 1
measure "decode batch 8" "bench generate --batch 8" "generate --batch 8" 8

echo
printf '%-16s %9s %9s %9s %9s %9s %10s %10s\n' "tokens/s" star "torch 1t" "torch 2t" "llama 1t" "llama 2t" "vs torch" "vs llama"
cat "$TMP/table"
echo "(ratios: star against the better thread count of PyTorch and of llama.cpp; 0 = not run)"
