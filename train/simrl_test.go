package train

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/star-go/star/model"
	"github.com/star-go/star/reward"
	"github.com/star-go/star/train/grpo"
)

// simrlSpecials are the added tokens of the test tokenizer, after the 256
// byte tokens.
var simrlSpecials = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>", "</tool_call>", "<tools>", "</tools>"}

// byteLevelRunes is GPT-2's bytes_to_unicode table.
func byteLevelRunes() []rune {
	var bs []int
	for b := '!'; b <= '~'; b++ {
		bs = append(bs, int(b))
	}
	for b := '¡'; b <= '¬'; b++ {
		bs = append(bs, int(b))
	}
	for b := '®'; b <= 'ÿ'; b++ {
		bs = append(bs, int(b))
	}
	out := make([]rune, 256)
	in := map[int]bool{}
	for _, b := range bs {
		out[b], in[b] = rune(b), true
	}
	n := 0
	for b := range 256 {
		if !in[b] {
			out[b] = rune(256 + n)
			n++
		}
	}
	return out
}

// simrlModelDir writes a tiny random Qwen3 with a byte-level tokenizer
// (265 ids: 256 bytes and the chat/tool specials; EOS = <|im_end|>).
func simrlModelDir(t *testing.T, seed uint64) string {
	t.Helper()
	dir := t.TempDir()
	vocab := map[string]int{}
	for b, r := range byteLevelRunes() {
		vocab[string(r)] = b
	}
	var added []map[string]any
	for i, s := range simrlSpecials {
		added = append(added, map[string]any{"id": 256 + i, "content": s, "special": true, "normalized": false,
			"single_word": false, "lstrip": false, "rstrip": false})
	}
	tj := map[string]any{
		"added_tokens":  added,
		"normalizer":    nil,
		"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
		"decoder":       map[string]any{"type": "ByteLevel"},
		"model":         map[string]any{"type": "BPE", "vocab": vocab, "merges": []string{}},
	}
	b, _ := json.Marshal(tj)
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := model.NewConfig(256+len(simrlSpecials), 16, 1, 2, 1, 8, 32, true)
	cfg.EOSTokenID = []byte(strconv.Itoa(256 + 2))
	m, err := model.NewRandom(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(dir, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// simrlData writes n prompts whose label is a class digit 0..3.
func simrlData(t *testing.T, n int, extra ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rl.jsonl")
	var b strings.Builder
	for i := range n {
		r := map[string]any{"id": fmt.Sprint("r", i),
			"inputs":  fmt.Sprintf("<|im_start|>user\nq%d<|im_end|>\n<|im_start|>assistant\n<think>", i%4),
			"targets": fmt.Sprint("</think>", i%4)}
		line, _ := json.Marshal(r)
		b.Write(line)
		b.WriteByte('\n')
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// classReward scores 1 when the first completion byte is the label digit,
// 0.3 for another digit, else 0: reachable by a random policy.
var classReward = grpo.RewardFunc(func(ctx context.Context, qs []grpo.Query) ([]grpo.Score, error) {
	out := make([]grpo.Score, len(qs))
	for i, q := range qs {
		var r float64
		switch c := q.Completion[0]; {
		case "</think>"+strconv.Itoa(c-'0') == q.Label:
			r = 1
		case c >= '0' && c <= '9':
			r = 0.3
		}
		out[i] = grpo.Score{Reward: r, Filter: r, Answer: r, Format: 1}
	}
	return out, nil
})

func simrlOptions(t *testing.T, modelDir, data string) SimRLOptions {
	cfg := grpo.Defaults()
	cfg.N, cfg.RolloutBatch, cfg.MaxNewTokens, cfg.MicroBatch, cfg.Episodes, cfg.Seed = 4, 4, 3, 8, 2, 5
	cfg.Filter = grpo.Filter{}
	return SimRLOptions{Model: modelDir, Data: data, RunDir: filepath.Join(t.TempDir(), "run"),
		GRPO: cfg, LR: 1e-2, Reward: classReward, Command: []string{"test"}}
}

func finalWeights(t *testing.T, dir string) map[string][]float32 {
	t.Helper()
	m, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return weights(t, m)
}

// TestSimRLResume: stopping mid-episode and resuming gives the weights of
// an uninterrupted run, bit for bit; the rejects file names the over-long
// and malformed records.
func TestSimRLResume(t *testing.T) {
	dir := simrlModelDir(t, 3)
	long := fmt.Sprintf(`{"id": "long", "inputs": %q, "targets": "0"}`, strings.Repeat("x", 300))
	data := simrlData(t, 12, long, `{"id": "bad", "targets": "1"}`)

	straight := simrlOptions(t, dir, data)
	straight.Rejects = filepath.Join(t.TempDir(), "rejects.jsonl")
	straight.MaxPromptLen = 200
	straight.Plot = Plot
	sum, err := SimRL(context.Background(), straight, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(straight.RunDir, CurvesFile)); err != nil || st.Size() == 0 {
		t.Errorf("curves: %v", err)
	}
	if sum.Iterations != 6 || sum.Steps != 6 || sum.Prompts != 12 || sum.Rejected != 2 {
		t.Fatalf("summary %+v", sum)
	}
	rej, _ := os.ReadFile(straight.Rejects)
	if !strings.Contains(string(rej), "over the 200-token limit") || !strings.Contains(string(rej), `"field": "inputs", "reason": "missing"`) {
		t.Errorf("rejects:\n%s", rej)
	}

	split := simrlOptions(t, dir, data)
	split.MaxPromptLen = 200
	split.Stop = 2 // mid-episode: 3 iterations per episode
	if _, err := SimRL(context.Background(), split, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(split.RunDir, FinalDir)); err == nil {
		t.Fatal("a stopped run wrote final/")
	}
	split.Stop, split.Resume = 0, true
	if sum, err = SimRL(context.Background(), split, io.Discard); err != nil {
		t.Fatal(err)
	}
	if sum.Iterations != 4 {
		t.Errorf("resumed run did %d iterations, want 4", sum.Iterations)
	}
	final := finalWeights(t, filepath.Join(straight.RunDir, FinalDir))
	sameWeights(t, final, finalWeights(t, filepath.Join(split.RunDir, FinalDir)))
	init := finalWeights(t, dir)
	if slices.Equal(init["model.embed_tokens.weight"], final["model.embed_tokens.weight"]) {
		t.Fatal("training left the weights unchanged")
	}

	// The metrics of both runs are the same iterations.
	for _, run := range []string{straight.RunDir, split.RunDir} {
		if n := len(metricLines(t, run)); n != 6 {
			t.Errorf("%s: %d metrics lines, want 6", run, n)
		}
	}
}

func metricLines(t *testing.T, run string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(run, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestSimRLDeterministic: the same seed gives the same weights; another
// seed other ones. Both rollout modes.
func TestSimRLDeterministic(t *testing.T) {
	for _, continuous := range []bool{true, false} {
		t.Run(fmt.Sprint("continuous=", continuous), func(t *testing.T) { deterministic(t, continuous) })
	}
}

func deterministic(t *testing.T, continuous bool) {
	dir, data := simrlModelDir(t, 6), simrlData(t, 8)
	final := func(seed uint64) map[string][]float32 {
		o := simrlOptions(t, dir, data)
		o.GRPO.Seed, o.GRPO.Continuous = seed, continuous
		if _, err := SimRL(context.Background(), o, io.Discard); err != nil {
			t.Fatal(err)
		}
		return finalWeights(t, filepath.Join(o.RunDir, FinalDir))
	}
	a, b, c := final(1), final(1), final(2)
	sameWeights(t, a, b)
	if slices.Equal(a["model.norm.weight"], c["model.norm.weight"]) && slices.Equal(a["model.embed_tokens.weight"], c["model.embed_tokens.weight"]) {
		t.Error("seeds 1 and 2 gave the same weights")
	}
}

// TestSimRLInterrupt: Ctrl-C in an iteration's reward phase saves the
// state before that iteration; resuming gives the uninterrupted weights.
func TestSimRLInterrupt(t *testing.T) {
	dir := simrlModelDir(t, 5)
	data := simrlData(t, 12)
	straight := simrlOptions(t, dir, data)
	if _, err := SimRL(context.Background(), straight, io.Discard); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	o := simrlOptions(t, dir, data)
	o.Reward = grpo.RewardFunc(func(c context.Context, qs []grpo.Query) ([]grpo.Score, error) {
		if calls++; calls == 3 { // in the third iteration
			cancel()
			return nil, c.Err()
		}
		return classReward(c, qs)
	})
	_, err := SimRL(ctx, o, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "checkpoint at iteration 2") {
		t.Fatalf("error %v", err)
	}
	o.Reward, o.Resume = classReward, true
	sum, err := SimRL(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Iterations != 4 {
		t.Errorf("resumed run did %d iterations, want 4", sum.Iterations)
	}
	sameWeights(t, finalWeights(t, filepath.Join(straight.RunDir, FinalDir)), finalWeights(t, filepath.Join(o.RunDir, FinalDir)))
	if n := len(metricLines(t, o.RunDir)); n != 6 {
		t.Errorf("%d metrics lines, want 6", n)
	}
}

// TestSimRLRemoteReward: a run scored by `star reward serve`'s handler on
// loopback logs the builtin reward's values (a random model never closes
// its <think>, so every completion is a format error, reward −1).
func TestSimRLRemoteReward(t *testing.T) {
	srv := httptest.NewServer((&reward.Service{}).Handler())
	defer srv.Close()
	o := simrlOptions(t, simrlModelDir(t, 4), simrlData(t, 4))
	o.Reward, o.RewardURL = nil, srv.URL+"/reward"
	o.GRPO.Episodes = 1
	if _, err := SimRL(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := metricLines(t, o.RunDir)
	if len(lines) != 1 {
		t.Fatalf("%d metrics lines", len(lines))
	}
	m := lines[0]
	if m["reward_mean"] != -1.0 || m["format_error_frac"] != 1.0 || m["format_mean"] != -1.0 || m["samples"] != 16.0 {
		t.Errorf("metrics %v", m)
	}
}

// TestSimRLBuiltinRejectsBadLabels: with the builtin reward, records whose
// label the reward cannot read go to the rejects file before training.
func TestSimRLBuiltinRejectsBadLabels(t *testing.T) {
	data := simrlData(t, 4, `{"id": "nothink", "inputs": "<|im_start|>assistant\n<think>", "targets": "no close tag"}`)
	o := simrlOptions(t, simrlModelDir(t, 4), data)
	o.Reward, o.GRPO.Episodes = nil, 1
	o.Rejects = filepath.Join(t.TempDir(), "rejects.jsonl")
	sum, err := SimRL(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rej, _ := os.ReadFile(o.Rejects)
	if sum.Prompts != 4 || sum.Rejected != 1 || !strings.Contains(string(rej), `"field": "targets"`) || !strings.Contains(string(rej), "</think>") {
		t.Errorf("summary %+v, rejects %s", sum, rej)
	}
}

// TestSimRLRemoteWrongLength: a reward service answering with the wrong
// number of rewards stops the run with a clear error and no checkpoint.
func TestSimRLRemoteWrongLength(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"rewards": [1.0]}`)
	}))
	defer srv.Close()
	o := simrlOptions(t, simrlModelDir(t, 4), simrlData(t, 8))
	o.Reward, o.RewardURL, o.SaveEvery = nil, srv.URL, 1
	_, err := SimRL(context.Background(), o, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "1 rewards for 16 queries") {
		t.Fatalf("error %v", err)
	}
	cks, _ := Checkpoints(o.RunDir)
	if len(cks) != 0 || len(metricLines(t, o.RunDir)) != 0 {
		t.Errorf("checkpoints %v, metrics %v", cks, metricLines(t, o.RunDir))
	}
	if _, err := os.Stat(filepath.Join(o.RunDir, FinalDir)); err == nil {
		t.Error("final/ written")
	}
}
