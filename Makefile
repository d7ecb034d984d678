# star — build, test, benchmark. GOEXPERIMENT=simd turns on GoMLX's Go-SIMD kernels
# (used for bf16/f16 and decoding); the float32 training kernels of the patched
# backend (third_party/PATCHES.md) are assembly and need no experiment.
GO        ?= go
SIMD      ?= simd
BIN       ?= bin/star
PKGS      ?= ./...
BENCHTIME ?= 2s

# Tests of the patched packages of third_party/compute (their own module).
COMPUTE_PKGS ?= ./internal/gobackend/... ./internal/vecmath/... ./gobackend/...

.PHONY: all build demo test test-go test-demo test-compute test-simd test-gguf test-openai bench bench-serve bench-peers lint fuzz clean

all: lint test build

build:
	GOEXPERIMENT=$(SIMD) $(GO) build -o $(BIN) ./cmd/star

# The whole STAR curriculum on a synthetic world, on this CPU (docs/demo.md).
DEMO_DIR ?= star-demo
demo: build
	$(BIN) demo -o $(DEMO_DIR) $(DEMO_FLAGS)

test: test-compute test-go test-demo

test-go:
	$(GO) test -count=1 $(PKGS)

# `star demo --quick` end to end, asserting what must hold (cmd/star/demo_test.go).
test-demo:
	STAR_DEMO=1 $(GO) test -count=1 -timeout 20m -run TestDemoQuick -v ./cmd/star

test-compute:
	cd third_party/compute && $(GO) test -count=1 $(COMPUTE_PKGS)

# The same suite with the SIMD kernels, as `make build` compiles them.
test-simd:
	GOEXPERIMENT=$(SIMD) $(GO) test -count=1 $(PKGS)

bench:
	GOEXPERIMENT=$(SIMD) $(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) $(PKGS)
	cd third_party/compute && GOEXPERIMENT=$(SIMD) $(GO) test -run '^$$' -bench 'SGEMM|Transpose|ExpShiftSum' -benchtime $(BENCHTIME) ./internal/gobackend/dot/matmul/ ./internal/gobackend/ops/ ./internal/vecmath/
	$(MAKE) bench-serve

# star serve under load (1/8/32 clients, 128+128 tokens) next to the engine's fixed-batch decode.
bench-serve:
	GOEXPERIMENT=$(SIMD) $(GO) run ./cmd/star bench serve --tokenizer $${STAR_SHARED:-../shared}/fixtures/qwen3

# `star export gguf` checked by llama.cpp: node-llama-cpp (pinned; prebuilt CPU
# binaries from npm, installed fresh into a git-ignored folder) runs the exported files.
NODE_LLAMA_CPP ?= 3.21.1
test-gguf:
	cd export/gguf/testdata && npm install --no-save --no-package-lock --omit=optional --ignore-scripts --no-audit --no-fund \
		"node-llama-cpp@$(NODE_LLAMA_CPP)" "@node-llama-cpp/$$(node -p 'process.platform+"-"+process.arch')@$(NODE_LLAMA_CPP)"
	STAR_GGUF_LLAMA_CPP=1 $(GO) test -count=1 -run TestLlamaCpp -v ./export/gguf

# `star serve` driven by the official `openai` npm client (pinned, installed
# fresh into a git-ignored folder): serve/testdata/openai/client.mjs.
OPENAI_NPM ?= 6.49.0
test-openai:
	cd serve/testdata/openai && npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund "openai@$(OPENAI_NPM)"
	STAR_OPENAI_CLIENT=1 $(GO) test -count=1 -run TestOpenAIClient -v ./serve

# Peer comparisons in the same run (need node / python3-torch; skip politely when absent).
bench-peers:
	bash bench/tokenizer/compare.sh
	bash bench/compare.sh
	sh bench/compare_train.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Short fuzzing runs of every fuzz target (seeds are in each package).
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzUnmarshal -fuzztime 20s ./internal/pyjson
	$(GO) test -run '^$$' -fuzz FuzzReader -fuzztime 20s ./data/jsonl
	$(GO) test -run '^$$' -fuzz FuzzRender -fuzztime 20s ./chat/jinja
	$(GO) test -run '^$$' -fuzz FuzzRoundTrip -fuzztime 20s -fuzzminimizetime 2s ./tokenizer
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 20s ./export/gguf
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 20s ./toolcall
	$(GO) test -run '^$$' -fuzz FuzzRequest -fuzztime 20s ./serve
	$(GO) test -run '^$$' -fuzz FuzzScore -fuzztime 20s ./eval/bfcl
	$(GO) test -run '^$$' -fuzz FuzzConverters -fuzztime 20s ./eval/bfcl
	$(GO) test -run '^$$' -fuzz FuzzParseCalls -fuzztime 20s ./eval/acebench

clean:
	rm -rf bin
