package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/demo/world"
	"github.com/star-go/star/reward"
	"github.com/star-go/star/toolcall"
)

// Score is one arm's BFCL result on the test split.
type Score struct {
	Arm     string
	Correct map[string]int // per case
	Total   map[string]int
	// Tools counts the items whose calls name exactly the expected tools
	// (as a multiset; no call on irrelevance), whatever the arguments: the
	// tool choice, which a small model learns long before it learns to copy
	// argument values, so the table shows it beside the BFCL accuracy.
	Tools, Items int
	// Reward is the mean Sim-RL reward (STAR-SPEC §6.1) of the responses
	// against the test labels: what Sim-RL optimises, with partial credit
	// for the right tools and argument names, −1 for a malformed answer.
	Reward float64
	// Loss is the held-out loss (`star eval loss`): mean cross-entropy per
	// token of the test split's reference answers, reasoning included.
	Loss float64
}

// ToolAccuracy is the share of items with the right tools.
func (s Score) ToolAccuracy() float64 {
	if s.Items == 0 {
		return 0
	}
	return float64(s.Tools) / float64(s.Items)
}

// Accuracy is the share of correct items over every case (count-weighted).
func (s Score) Accuracy() float64 {
	c, t := 0, 0
	for _, k := range world.Cases {
		c += s.Correct[k]
		t += s.Total[k]
	}
	if t == 0 {
		return 0
	}
	return float64(c) / float64(t)
}

// CaseAccuracy is the accuracy of one case (NaN when it has no items).
func (s Score) CaseAccuracy(k string) float64 {
	if s.Total[k] == 0 {
		return math.NaN()
	}
	return float64(s.Correct[k]) / float64(s.Total[k])
}

// ReadScore reads DIR/eval/ARM/summary.json, as `star eval bfcl` writes it.
func ReadScore(c Config, arm string) (Score, error) {
	path := c.Path("eval", arm, "summary.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return Score{}, err
	}
	var v struct {
		Categories map[string]struct {
			Total   int `json:"total_count"`
			Correct int `json:"correct_count"`
		} `json:"categories"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return Score{}, fmt.Errorf("%s: %w", path, err)
	}
	s := Score{Arm: arm, Correct: map[string]int{}, Total: map[string]int{}}
	for _, k := range world.Cases {
		s.Correct[k], s.Total[k] = v.Categories[k].Correct, v.Categories[k].Total
	}
	responses := c.Path("eval", arm, "responses.jsonl")
	if s.Tools, s.Items, err = toolChoice(c.Path("world", "test.jsonl"), responses); err != nil {
		return s, err
	}
	if s.Reward, err = testReward(c.Path("data", "test.jsonl"), responses); err != nil {
		return s, err
	}
	s.Loss, err = readLoss(c.Path("eval", arm, "loss.json"))
	return s, err
}

// readLoss reads the "loss" of a `star eval loss -o` file.
func readLoss(path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var v struct {
		Loss *float64 `json:"loss"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if v.Loss == nil {
		return 0, fmt.Errorf("%s: no \"loss\"", path)
	}
	return *v.Loss, nil
}

// testReward is the mean Sim-RL reward of the responses (as `star eval bfcl`
// writes them: the answer in "result", the reasoning in "reasoning_content")
// against the test split as {id, inputs, targets}. The generation scored is
// "<think>reasoning</think>" + answer, or the answer alone when the model
// closed no reasoning (which the reward counts as malformed).
func testReward(test, responses string) (float64, error) {
	type item struct{ prompt, label string }
	items := map[string]item{}
	err := eachLine(test, func(line []byte) error {
		var r struct{ ID, Inputs, Targets string }
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		items[r.ID] = item{r.Inputs, r.Targets}
		return nil
	})
	if err != nil {
		return 0, err
	}
	sum, n := 0.0, 0
	err = eachLine(responses, func(line []byte) error {
		var r struct {
			ID        string  `json:"id"`
			Result    string  `json:"result"`
			Reasoning *string `json:"reasoning_content"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		it, ok := items[r.ID]
		if !ok {
			return fmt.Errorf("id %q is not in %s", r.ID, test)
		}
		gen := r.Result
		if r.Reasoning != nil {
			gen = toolcall.ThinkOpen + *r.Reasoning + toolcall.ThinkClose + "\n\n" + r.Result
		}
		res, err := reward.Score(it.prompt, it.label, gen)
		if err != nil {
			return fmt.Errorf("id %q: %w", r.ID, err)
		}
		sum += res.Reward
		n++
		return nil
	})
	if err != nil || n == 0 {
		return 0, err
	}
	return sum / float64(n), nil
}

// toolChoice counts the responses whose calls name the expected tools, the
// expected ones read from the test split's messages records.
func toolChoice(test, responses string) (right, items int, err error) {
	want := map[string][]string{}
	err = eachLine(test, func(line []byte) error {
		var r struct {
			ID       string `json:"id"`
			Messages []struct {
				ToolCalls []struct {
					Name string `json:"name"`
				} `json:"tool_calls"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		names := []string{}
		for _, m := range r.Messages {
			for _, tc := range m.ToolCalls {
				names = append(names, tc.Name)
			}
		}
		want[r.ID] = names
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	err = eachLine(responses, func(line []byte) error {
		var r struct {
			ID     string `json:"id"`
			Result string `json:"result"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		names, ok := want[r.ID]
		if !ok {
			return fmt.Errorf("id %q is not in %s", r.ID, test)
		}
		var got []string
		for _, call := range toolcall.Parse(r.Result).Calls {
			got = append(got, call.Name)
		}
		slices.Sort(got)
		slices.Sort(names)
		items++
		if slices.Equal(got, names) {
			right++
		}
		return nil
	})
	return right, items, err
}

// errStop ends eachLine early without an error.
var errStop = errors.New("stop")

// eachLine calls f with every non-blank line of path (jsonl.Reader: long
// lines, gzip); f's errors come back naming the file and line.
func eachLine(path string, f func([]byte) error) error {
	r, err := jsonl.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	for r.Next() {
		if err := f(r.Bytes()); err == errStop {
			return nil
		} else if err != nil {
			return r.Wrap(err)
		}
	}
	return r.Err()
}

// RewardTrend is the mean Sim-RL reward over the first and the last third of
// the run's iterations.
type RewardTrend struct {
	Iterations  int
	First, Last float64
}

// ReadRewardTrend reads the Sim-RL run's metrics.jsonl.
func ReadRewardTrend(c Config) (RewardTrend, error) {
	path := c.Path("runs", StudentCKDSimRL, "metrics.jsonl")
	var rs []float64
	err := eachLine(path, func(line []byte) error {
		var m struct {
			Reward *float64 `json:"reward_mean"`
		}
		if json.Unmarshal(line, &m) == nil && m.Reward != nil {
			rs = append(rs, *m.Reward)
		}
		return nil // other lines (eval rows, a torn last line) carry no reward
	})
	if err != nil {
		return RewardTrend{}, err
	}
	if len(rs) == 0 {
		return RewardTrend{}, fmt.Errorf("%s: no reward_mean lines", path)
	}
	third := max(1, len(rs)/3)
	return RewardTrend{Iterations: len(rs), First: mean(rs[:third]), Last: mean(rs[len(rs)-third:])}, nil
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Report is what the demo measured.
type Report struct {
	Scores  []Score
	Reward  RewardTrend
	Timings map[string]float64
}

// ReadReport gathers the scores, the reward trend and the timings.
func ReadReport(c Config) (*Report, error) {
	r := &Report{Timings: readTimings(c)}
	for _, arm := range Arms {
		s, err := ReadScore(c, arm)
		if err != nil {
			return nil, err
		}
		r.Scores = append(r.Scores, s)
	}
	var err error
	r.Reward, err = ReadRewardTrend(c)
	return r, err
}

// Table is the results as a Markdown table: overall and per case.
func (r *Report) Table() string {
	var b strings.Builder
	b.WriteString("| model | overall |")
	for _, k := range world.Cases {
		b.WriteString(" " + k + " |")
	}
	b.WriteString(" right tools | reward | test loss |\n|---|---|---|---|---|")
	for range world.Cases {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, s := range r.Scores {
		fmt.Fprintf(&b, "| %s | **%.1f%%** |", s.Arm, 100*s.Accuracy())
		for _, k := range world.Cases {
			fmt.Fprintf(&b, " %.1f%% (%d/%d) |", 100*s.CaseAccuracy(k), s.Correct[k], s.Total[k])
		}
		fmt.Fprintf(&b, " %.1f%% | %+.3f | %.3f |\n", 100*s.ToolAccuracy(), s.Reward, s.Loss)
	}
	return b.String()
}

// WriteReport writes DIR/report.md and DIR/accuracy.png.
func WriteReport(c Config, r *Report, stages []Stage) error {
	z := SizesFor(c.Quick)
	var b strings.Builder
	size := "full"
	if c.Quick {
		size = "quick"
	}
	fmt.Fprintf(&b, "# STAR demo (%s, seed %d)\n\n", size, c.Seed)
	b.WriteString("BFCL checker (`star eval bfcl`) on the held-out test split of the synthetic world, greedy decoding. " +
		"\"right tools\": the share of items whose calls name exactly the expected tools (none on irrelevance), whatever the arguments. " +
		"\"reward\": the mean Sim-RL reward (STAR-SPEC §6.1) against the test labels, from −1 (malformed) to 1. " +
		"\"test loss\": nats per token of the test split's reference answers (`star eval loss`; lower is better).\n\n")
	b.WriteString(r.Table())
	fmt.Fprintf(&b, "\nSim-RL mean reward: %.3f over the first third of its %d iterations, %.3f over the last third.\n\n",
		r.Reward.First, r.Reward.Iterations, r.Reward.Last)
	b.WriteString("![accuracy](accuracy.png)\n\n![training curves](curves.png)\n\n## Settings\n\n")
	fmt.Fprintf(&b, "- vocabulary %d; teacher hidden %d × %d layers; student hidden %d × %d layers\n",
		z.Vocab, z.Teacher[0], z.Teacher[1], z.Student[0], z.Student[1])
	fmt.Fprintf(&b, "- teacher SFT %d epochs at lr %s; %d CKD prompts × %d rollouts; student %d epochs at lr %s, top-k %d\n",
		z.TeacherEpochs, z.TeacherLR, z.CKDPrompts, z.RolloutN, z.StudentEpochs, z.StudentLR, z.TopK)
	fmt.Fprintf(&b, "- Sim-RL: %d prompts × %d samples per iteration, %d episode(s), lr %s, KL weight %s, ≤ %d new tokens\n\n",
		z.RLBatch, z.RLSamples, z.RLEpisodes, z.RLLR, z.RLKL, z.MaxNewTokens)
	b.WriteString("## Stages (each is a star command; rerun `star demo` to resume)\n\n| stage | seconds | command |\n|---|---|---|\n")
	total := 0.0
	for _, s := range stages {
		cmd := "(Go: " + s.What + ")"
		if s.Args != nil {
			cmd = "`star " + strings.Join(s.Args, " ") + "`"
		}
		fmt.Fprintf(&b, "| %s | %.1f | %s |\n", s.Name, r.Timings[s.Name], cmd)
		total += r.Timings[s.Name]
	}
	fmt.Fprintf(&b, "| total | %.1f | |\n", total)
	if err := writeFile(c.Path("report.md"), []byte(b.String())); err != nil {
		return err
	}
	return plotAccuracy(r, c.Path("accuracy.png"))
}

// plotAccuracy draws grouped bars: one group per case plus overall, one bar
// per arm.
func plotAccuracy(r *Report, out string) error {
	p := plot.New()
	p.Title.Text = "BFCL checker accuracy on the held-out test split"
	p.Y.Label.Text = "accuracy (%)"
	p.Y.Min, p.Y.Max = 0, 100
	groups := append([]string{"overall"}, world.Cases...)
	w := vg.Points(9)
	palette := []color.RGBA{{0x44, 0x44, 0x44, 255}, {0xaa, 0xaa, 0xaa, 255}, {0x1f, 0x77, 0xb4, 255}, {0xff, 0x7f, 0x0e, 255}, {0x2c, 0xa0, 0x2c, 255}}
	for i, s := range r.Scores {
		vals := make(plotter.Values, len(groups))
		vals[0] = 100 * s.Accuracy()
		for j, k := range world.Cases {
			if v := s.CaseAccuracy(k); !math.IsNaN(v) {
				vals[j+1] = 100 * v
			}
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return err
		}
		bars.Color = palette[i%len(palette)]
		bars.LineStyle.Width = 0
		bars.Offset = w * vg.Length(float64(i)-float64(len(r.Scores)-1)/2)
		p.Add(bars)
		p.Legend.Add(s.Arm, bars)
	}
	p.Legend.Top = true
	p.NominalX(groups...)
	return p.Save(8*vg.Inch, 4*vg.Inch, out)
}
