#!/bin/sh
# Build llama.cpp's llama-batched-bench, the decode peer of bench/compare.sh,
# from the llama.cpp source that the npm package node-llama-cpp carries
# (llama/gitRelease.bundle: a git bundle of the release it was built from), so
# nothing is fetched from GitHub. Needs npm, git, cmake and a C++ compiler
# (Debian: apt-get install cmake build-essential). Native build (GGML_NATIVE,
# so AVX-512 where the CPU has it), Release, OpenMP off.
#
#   bash bench/llamacpp.sh          # → bench/llama.cpp/build/bin/llama-batched-bench
set -eu
cd "$(dirname "$0")"
VERSION=${NODE_LLAMA_CPP_VERSION:-3.21.1}
DIR=llama.cpp

for tool in npm git cmake c++; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "llamacpp.sh: $tool not found (apt-get install cmake build-essential git; npm comes with node): not built" >&2
		exit 1
	fi
done

if [ ! -d "$DIR/.git" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && npm pack --silent "node-llama-cpp@$VERSION" >/dev/null && tar xzf node-llama-cpp-*.tgz)
	bundle="$tmp/package/llama/gitRelease.bundle"
	[ -f "$bundle" ] || { echo "llamacpp.sh: $bundle missing from node-llama-cpp@$VERSION" >&2; exit 1; }
	rm -rf "$DIR"
	git clone --quiet "$bundle" "$DIR"
fi
git -C "$DIR" log --oneline -1

cmake -S "$DIR" -B "$DIR/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_OPENMP=OFF \
	-DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF >/dev/null
cmake --build "$DIR/build" --target llama-batched-bench -j "$(nproc)" >/dev/null
echo "built $(pwd)/$DIR/build/bin/llama-batched-bench"
