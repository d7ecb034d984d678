package train

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/star-go/star/model"
)

// The benchmarks time SFT and CKD steps at `star bench train`'s shape
// (vocab 8192, hidden 256, 4 layers, 8/2 heads, head_dim 32, MLP 768;
// 4 sequences × 256 tokens per step, half prompt, half target), twice:
// the bare step (Accumulate + Apply on a prepared batch) and the full loop
// (Train: data order, micro-batching, the teacher's top-k read from a
// STORE, metrics; checkpoint writes excluded — the final save is outside
// the timed steps). Each reports tokens/s; the loop's includes reading and
// tokenizing the data file.

const (
	benchVocab, benchSeq, benchBatch, benchK = 8192, 256, 4, 100
)

func benchConfig() *model.Config {
	return model.NewConfig(benchVocab, 256, 4, 8, 2, 32, 768, false)
}

func benchRecords(rng *rand.Rand, n int) [][2][]int {
	out := make([][2][]int, n)
	for i := range out {
		for j := range benchSeq {
			out[i][j/(benchSeq/2)] = append(out[i][j/(benchSeq/2)], rng.IntN(benchVocab))
		}
	}
	return out
}

// randomTopK is a plausible teacher row: k distinct ids with descending
// log-probs whose probabilities sum below 1.
func randomTopK(rng *rand.Rand) ([]int32, []float32) {
	ids := make([]int32, 0, benchK)
	seen := map[int32]bool{}
	for len(ids) < benchK {
		id := int32(rng.IntN(benchVocab))
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	// p_j ∝ exp(−0.05·j·(1+noise)), scaled to a top-k mass of 0.9.
	p := make([]float64, benchK)
	var sum float64
	for j := range p {
		p[j] = math.Exp(-0.05 * float64(j) * (1 + 0.1*rng.Float64()))
		sum += p[j]
	}
	vals := make([]float32, benchK)
	for j := range vals {
		vals[j] = float32(math.Log(0.9 * p[j] / sum))
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] > vals[j] })
	return ids, vals
}

func benchExamples(recs [][2][]int) []*Example {
	var ex []*Example
	for _, r := range recs {
		ex = append(ex, &Example{Seq: append(append([]int(nil), r[0]...), r[1]...), PromptLen: len(r[0]), Key: SeqKey(r[0], r[1])})
	}
	return ex
}

func BenchmarkSFTStep(b *testing.B) { benchStep(b, false) }
func BenchmarkCKDStep(b *testing.B) { benchStep(b, true) }
func BenchmarkSFTLoop(b *testing.B) { benchLoop(b, false) }
func BenchmarkCKDLoop(b *testing.B) { benchLoop(b, true) }

func benchStep(b *testing.B, ckd bool) {
	m, err := model.NewRandom(benchConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	tr := model.NewTrainer(m, model.DefaultAdamW(0), model.CosineSchedule(1e-4, 1000))
	rng := rand.New(rand.NewPCG(1, 2))
	build := func() model.Objective {
		mb := benchExamples(benchRecords(rng, benchBatch))
		o, _ := SFT{}.Build(context.Background(), m, mb)
		if !ckd {
			return o
		}
		ce := o.(*model.CrossEntropy)
		c := &model.CKD{Seqs: ce.Seqs, Mask: ce.Mask, KLType: "fkl", TailCoef: 10, TopM: benchK, KDRatio: 1}
		var err error
		if c.Thresholds, err = m.TopMThresholds(c.Seqs, benchK); err != nil {
			b.Fatal(err)
		}
		for _, e := range mb {
			vals, ids := make([][]float32, len(e.Seq)-1), make([][]int, len(e.Seq)-1)
			for r := e.PromptLen - 1; r < len(e.Seq)-1; r++ {
				i32, v := randomTopK(rng)
				vals[r] = v
				for _, id := range i32 {
					ids[r] = append(ids[r], int(id))
				}
			}
			c.TeacherLogprobs, c.TeacherIDs = append(c.TeacherLogprobs, vals), append(c.TeacherIDs, ids)
		}
		return c
	}
	step := func() {
		if _, err := tr.Accumulate(build()); err != nil {
			b.Fatal(err)
		}
		if _, err := tr.Apply(); err != nil {
			b.Fatal(err)
		}
	}
	step() // compiles
	b.ResetTimer()
	var spent time.Duration
	for range b.N {
		t0 := time.Now()
		step()
		spent += time.Since(t0)
	}
	b.ReportMetric(float64(b.N*benchBatch*benchSeq)/spent.Seconds(), "tokens/s")
}

func benchLoop(b *testing.B, ckd bool) {
	dir := b.TempDir()
	m, err := model.NewRandom(benchConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	mdir := filepath.Join(dir, "model")
	if err := m.Save(mdir, model.SaveOptions{}); err != nil {
		b.Fatal(err)
	}
	steps := b.N + 1 // the first step compiles and is not counted
	rng := rand.New(rand.NewPCG(1, 2))
	recs := benchRecords(rng, steps*benchBatch)
	var sb strings.Builder
	for i, r := range recs {
		line, _ := json.Marshal(map[string]any{"id": i, "input_ids": r[0], "target_ids": r[1]})
		sb.Write(append(line, '\n'))
	}
	data := filepath.Join(dir, "data.jsonl")
	os.WriteFile(data, []byte(sb.String()), 0o644)
	var obj Objective = SFT{}
	if ckd {
		store := filepath.Join(dir, "topk.bin")
		sw, err := CreateStore(store, StoreHeader{Teacher: "random", K: benchK, VocabSize: benchVocab, MaxLen: benchSeq})
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range benchExamples(recs) {
			rec := &StoreRecord{Key: e.Key, First: e.PromptLen - 1}
			for range e.Targets() {
				ids, vals := randomTopK(rng)
				rec.IDs, rec.Vals = append(rec.IDs, ids...), append(rec.Vals, vals...)
			}
			if err := sw.Add(rec); err != nil {
				b.Fatal(err)
			}
		}
		if err := sw.Close(); err != nil {
			b.Fatal(err)
		}
		s, err := OpenStore(store)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		obj = &CKD{Teacher: &StoreTeacher{S: s}, K: benchK, TailLambda: 10, KL: "fkl", KDRatio: 1}
	}
	t0 := time.Now()
	if _, _, err := ReadExamples(data, DataOptions{Vocab: benchVocab, MaxLen: 2048}, nil); err != nil {
		b.Fatal(err)
	}
	load := time.Since(t0)
	b.ResetTimer()
	runDir := filepath.Join(dir, "run")
	cfg := Config{Kind: "bench", Model: mdir, Data: data, RunDir: runDir, Steps: steps, Batch: benchBatch,
		MicroTok: benchBatch * benchSeq, LR: 1e-4, Progress: io.Discard}
	if _, err := Train(context.Background(), cfg, obj, io.Discard); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	var tokens, secs float64
	for i, l := range readMetricsB(b, runDir) {
		if i == 0 {
			continue
		}
		tokens += l["tokens"].(float64)
		secs += l["seconds"].(float64)
	}
	if secs == 0 || math.IsNaN(secs) {
		b.Fatal("no timed steps")
	}
	b.ReportMetric(tokens/(secs+load.Seconds()*float64(steps-1)/float64(steps)), "tokens/s")
}

func readMetricsB(b *testing.B, runDir string) []map[string]any {
	raw, err := os.ReadFile(filepath.Join(runDir, MetricsFile))
	if err != nil {
		b.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			b.Fatal(fmt.Errorf("%q: %w", l, err))
		}
		if m["split"] == "train" {
			out = append(out, m)
		}
	}
	return out
}

// BenchmarkCKDStepQwen06B is one CKD step at Qwen3-0.6B's shape (28 layers,
// hidden 1024, 16/8 heads of 128, MLP 3072, the real 151,936 vocabulary,
// tied, random weights) on 1 × 256 tokens with the teacher's top-100 read
// from a STORE; it reports tokens/s and peak RSS. It needs ~12 GB and runs
// only when STAR_BENCH_QWEN06B is set (to the number of layers: 28 for the
// real depth, fewer to fit a small machine).
func BenchmarkCKDStepQwen06B(b *testing.B) {
	layers, _ := strconv.Atoi(os.Getenv("STAR_BENCH_QWEN06B"))
	if layers <= 0 {
		b.Skip("set STAR_BENCH_QWEN06B=28 (needs ~12 GB)")
	}
	const V, seq, k = 151936, 256, 100
	m, err := model.NewRandom(model.NewConfig(V, 1024, layers, 16, 8, 128, 3072, true), 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	in, tg := make([]int, seq/2), make([]int, seq/2)
	for i := range in {
		in[i], tg[i] = rng.IntN(V), rng.IntN(V)
	}
	ex := []*Example{{Seq: append(append([]int(nil), in...), tg...), PromptLen: len(in), Key: SeqKey(in, tg)}}
	path := filepath.Join(b.TempDir(), "topk.bin")
	sw, err := CreateStore(path, StoreHeader{Teacher: "random", K: k, VocabSize: V, MaxLen: seq})
	if err != nil {
		b.Fatal(err)
	}
	rec := &StoreRecord{Key: ex[0].Key, First: len(in) - 1}
	for range len(tg) {
		for j := range k {
			rec.IDs = append(rec.IDs, int32((j*7919+rng.IntN(7919))%V))
			rec.Vals = append(rec.Vals, float32(math.Log(0.9/float64(k))))
		}
	}
	if err := sw.Add(rec); err != nil {
		b.Fatal(err)
	}
	if err := sw.Close(); err != nil {
		b.Fatal(err)
	}
	s, err := OpenStore(path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	obj := &CKD{Teacher: &StoreTeacher{S: s}, K: k, TailLambda: 10, KL: "fkl", KDRatio: 1}
	tr := model.NewTrainer(m, model.DefaultAdamW(1e-4), model.CosineSchedule(3e-6, 100))
	step := func() {
		o, err := obj.Build(context.Background(), m, ex)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tr.Accumulate(o); err != nil {
			b.Fatal(err)
		}
		if _, err := tr.Apply(); err != nil {
			b.Fatal(err)
		}
	}
	step() // compiles
	b.ResetTimer()
	t0 := time.Now()
	for range b.N {
		step()
	}
	b.ReportMetric(float64(b.N*seq)/time.Since(t0).Seconds(), "tokens/s")
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-MiB")
}
