// Package train trains Qwen3 students: the run directory every trainer
// shares (run.json, metrics.jsonl, checkpoints that resume bit for bit), the
// training loop SFT and CKD plug their objective into, the teacher's top-k
// store, and plots of a run's metrics.
//
// A run directory:
//
//	RUN_DIR/run.json                 command line, hyperparameters, data hashes
//	RUN_DIR/metrics.jsonl            one JSON line per step; eval lines have "split":"eval"
//	RUN_DIR/checkpoints/step-N/      HF model dir + optimizer.safetensors + trainer_state.json
//	RUN_DIR/final/                   HF model dir at the end
//	RUN_DIR/curves.png               plots of metrics.jsonl
//
// A checkpoint is written to step-N.tmp, synced and renamed, so a directory
// named step-N is always complete; Latest finds the newest one.
package train

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/star-go/star/model"
	"github.com/star-go/star/model/safetensors"
)

// File and directory names inside a run directory.
const (
	RunFile        = "run.json"
	MetricsFile    = "metrics.jsonl"
	CurvesFile     = "curves.png"
	CheckpointsDir = "checkpoints"
	FinalDir       = "final"
	StateFile      = "trainer_state.json"
	MomentsFile    = "optimizer.safetensors"
)

// Info is run.json: what was run, with which settings, on which data.
type Info struct {
	Kind    string   `json:"kind"` // "sft", "ckd", "simrl"
	Command []string `json:"command"`
	// Model is the initial model directory; its tokenizer and template files
	// are copied into every checkpoint.
	Model string `json:"model"`
	// Hyper holds the resolved hyperparameters (every default filled in).
	Hyper any `json:"hyperparameters"`
	// Data maps each input file to its sha256.
	Data    map[string]string `json:"data_sha256,omitempty"`
	Started time.Time         `json:"started"`
	Resumed []Resumption      `json:"resumed,omitempty"`
}

// Resumption records one --resume of the run.
type Resumption struct {
	Command  []string  `json:"command"`
	FromStep int       `json:"from_step"`
	Time     time.Time `json:"time"`
}

// State is the trainer state saved beside a checkpoint's weights (the AdamW
// moments are in MomentsFile). Cursor and Extra are the trainer's own: the
// SFT/CKD loop keeps its data-order position in Cursor; Sim-RL keeps its
// episode, prompt cursor and RNG state in Extra.
type State struct {
	Step     int             `json:"step"`
	Schedule model.Schedule  `json:"schedule"`
	AdamW    model.AdamW     `json:"adamw"`
	Cursor   json.RawMessage `json:"cursor,omitempty"`
	Extra    json.RawMessage `json:"extra,omitempty"`
	Saved    time.Time       `json:"saved"`
}

// Checkpoint is a complete checkpoint directory.
type Checkpoint struct {
	Dir  string
	Step int
}

// Run is an open run directory.
type Run struct {
	Dir  string
	Info Info
	// From is the checkpoint a resumed run continues from (nil: a fresh start).
	From *Checkpoint
	// Keep > 0 keeps only the newest Keep checkpoints: older ones are
	// removed after each save (a Qwen3-0.6B checkpoint with its moments is
	// ~7 GB).
	Keep int

	tokSrc  string // where tokenizer files are copied from
	metrics *os.File
}

// ErrRunExists is returned when a fresh run would overwrite another one.
var ErrRunExists = errors.New("already holds a run (pass --resume to continue it, or choose another directory)")

// Open creates (or, with resume, reopens) the run directory dir. A fresh
// run refuses a directory that holds a run already. Resuming picks the newest
// complete checkpoint (From; nil if there is none, and the run starts over),
// drops metrics lines after its step, removes half-written checkpoints and
// refuses when the data files changed since the run began.
func Open(dir string, info Info, resume bool) (*Run, error) {
	if err := os.MkdirAll(filepath.Join(dir, CheckpointsDir), 0o755); err != nil {
		return nil, fmt.Errorf("run directory %s: %w", dir, err)
	}
	r := &Run{Dir: dir, Info: info, tokSrc: info.Model}
	prev, err := ReadInfo(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		prev = nil
	case err != nil:
		return nil, err
	}
	if prev != nil && !resume {
		return nil, fmt.Errorf("run directory %s %w", dir, ErrRunExists)
	}
	if err := removeTemporaries(dir); err != nil {
		return nil, err
	}
	step := 0
	if resume && prev != nil {
		for f, sum := range prev.Data {
			if now, ok := info.Data[f]; ok && now != sum {
				return nil, fmt.Errorf("resume %s: data file %s changed since the run started (sha256 %.12s…, now %.12s…)", dir, f, sum, now)
			}
		}
		ck, ok, err := Latest(dir)
		if err != nil {
			return nil, err
		}
		if ok {
			r.From, step, r.tokSrc = &ck, ck.Step, ck.Dir
		}
		// run.json keeps the first command line and its start; later ones are appended.
		resumed := append(prev.Resumed, Resumption{Command: info.Command, FromStep: step, Time: time.Now().UTC()})
		r.Info = *prev
		r.Info.Hyper, r.Info.Data, r.Info.Resumed = info.Hyper, info.Data, resumed
	}
	if r.Info.Started.IsZero() {
		r.Info.Started = time.Now().UTC()
	}
	if err := writeJSON(filepath.Join(dir, RunFile), r.Info); err != nil {
		return nil, fmt.Errorf("run directory %s: %w", dir, err)
	}
	if err := truncateMetrics(filepath.Join(dir, MetricsFile), step); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, MetricsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run directory %s: %w", dir, err)
	}
	r.metrics = f
	return r, nil
}

// ReadInfo reads dir/run.json.
func ReadInfo(dir string) (*Info, error) {
	b, err := os.ReadFile(filepath.Join(dir, RunFile))
	if err != nil {
		return nil, err
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, RunFile), err)
	}
	return &info, nil
}

// Log appends one metrics line (any JSON object). In a map, NaN and ±Inf
// (which JSON cannot hold) are written as null.
func (r *Run) Log(v any) error {
	if m, ok := v.(map[string]any); ok {
		clean := make(map[string]any, len(m))
		for k, x := range m {
			if f, ok := x.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
				x = nil
			}
			clean[k] = x
		}
		v = clean
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := r.metrics.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(r.Dir, MetricsFile), err)
	}
	return nil
}

// Close closes the metrics file.
func (r *Run) Close() error {
	if r.metrics == nil {
		return nil
	}
	err := r.metrics.Sync()
	if cerr := r.metrics.Close(); err == nil {
		err = cerr
	}
	r.metrics = nil
	return err
}

// CheckpointDir is where the checkpoint of a step lives.
func (r *Run) CheckpointDir(step int) string {
	return filepath.Join(r.Dir, CheckpointsDir, fmt.Sprintf("step-%d", step))
}

// Save writes checkpoints/step-N for the trainer's current step: the model
// (float32, so that a resumed run continues exactly), the tokenizer files,
// the AdamW moments and st (its Step, Schedule and AdamW are set from tr).
func (r *Run) Save(tr *model.Trainer, st State) (string, error) {
	st.Step, st.Schedule, st.AdamW, st.Saved = tr.Step, tr.Sched, tr.Opt, time.Now().UTC()
	dir := r.CheckpointDir(tr.Step)
	err := r.writeDir(dir, func(tmp string) error {
		if err := r.saveModel(tr.M, tmp, safetensors.F32); err != nil {
			return err
		}
		if err := tr.SaveMoments(filepath.Join(tmp, MomentsFile)); err != nil {
			return err
		}
		return writeJSON(filepath.Join(tmp, StateFile), st)
	})
	if err != nil {
		return "", fmt.Errorf("checkpoint step %d: %w", tr.Step, err)
	}
	// The newest checkpoint holds the tokenizer files from now on: the
	// directory they came from may be an older checkpoint about to go.
	r.tokSrc = dir
	if err := r.prune(); err != nil {
		return "", err
	}
	return dir, nil
}

// prune removes all but the newest Keep checkpoints.
func (r *Run) prune() error {
	if r.Keep <= 0 {
		return nil
	}
	cks, err := Checkpoints(r.Dir)
	if err != nil {
		return err
	}
	for i := 0; i+r.Keep < len(cks); i++ {
		if err := os.RemoveAll(cks[i].Dir); err != nil {
			return fmt.Errorf("removing old checkpoint: %w", err)
		}
	}
	return nil
}

// SaveFinal writes RUN_DIR/final (the model only) in dtype (F32 or BF16;
// "" for F32), replacing an earlier one.
func (r *Run) SaveFinal(m *model.Model, dtype string) (string, error) {
	if dtype == "" {
		dtype = safetensors.F32
	}
	dir := filepath.Join(r.Dir, FinalDir)
	if err := r.writeDir(dir, func(tmp string) error { return r.saveModel(m, tmp, dtype) }); err != nil {
		return "", fmt.Errorf("final model: %w", err)
	}
	return dir, nil
}

// saveModel writes an HF model directory with the run's tokenizer files.
func (r *Run) saveModel(m *model.Model, dir, dtype string) error {
	if err := m.Save(dir, model.SaveOptions{DType: dtype}); err != nil {
		return err
	}
	if r.tokSrc == "" {
		return nil
	}
	for _, f := range model.TokenizerFiles() {
		b, err := os.ReadFile(filepath.Join(r.tokSrc, f))
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		if err := safetensors.WriteAtomic(filepath.Join(dir, f), b); err != nil {
			return err
		}
	}
	return nil
}

// writeDir fills dir+".tmp" with fill, syncs it and renames it to dir
// (replacing an older dir), so dir is either absent, the old one, or complete.
func (r *Run) writeDir(dir string, fill func(tmp string) error) error {
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := syncDir(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	old := dir + ".old"
	if _, err := os.Stat(dir); err == nil {
		os.RemoveAll(old)
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	os.RemoveAll(old)
	return syncDir(filepath.Dir(dir))
}

var stepDirRE = regexp.MustCompile(`^step-(\d+)$`)

// Checkpoints lists the complete checkpoints of a run directory, oldest first.
func Checkpoints(runDir string) ([]Checkpoint, error) {
	entries, err := os.ReadDir(filepath.Join(runDir, CheckpointsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []Checkpoint
	for _, e := range entries {
		m := stepDirRE.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		dir := filepath.Join(runDir, CheckpointsDir, e.Name())
		if _, err := ReadState(dir); err != nil {
			continue // not a checkpoint this package wrote
		}
		out = append(out, Checkpoint{Dir: dir, Step: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Step < out[j].Step })
	return out, nil
}

// Latest is the newest complete checkpoint of a run directory.
func Latest(runDir string) (Checkpoint, bool, error) {
	cks, err := Checkpoints(runDir)
	if err != nil || len(cks) == 0 {
		return Checkpoint{}, false, err
	}
	return cks[len(cks)-1], true, nil
}

// ReadState reads a checkpoint's trainer_state.json.
func ReadState(dir string) (*State, error) {
	path := filepath.Join(dir, StateFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &st, nil
}

// Restore loads a checkpoint: the model, a Trainer with its moments,
// schedule and step, and the saved State.
func Restore(ck Checkpoint) (*model.Trainer, *State, error) {
	st, err := ReadState(ck.Dir)
	if err != nil {
		return nil, nil, err
	}
	m, err := model.Load(ck.Dir)
	if err != nil {
		return nil, nil, err
	}
	tr := model.NewTrainer(m, st.AdamW, st.Schedule)
	if err := tr.LoadMoments(filepath.Join(ck.Dir, MomentsFile)); err != nil {
		return nil, nil, err
	}
	if tr.Step != st.Step {
		return nil, nil, fmt.Errorf("%s: optimizer is at step %d, trainer state at %d", ck.Dir, tr.Step, st.Step)
	}
	return tr, st, nil
}

// removeTemporaries deletes checkpoints a killed run left half-written.
func removeTemporaries(runDir string) error {
	for _, pat := range []string{filepath.Join(runDir, CheckpointsDir, "*.tmp"), filepath.Join(runDir, "*.tmp")} {
		tmps, _ := filepath.Glob(pat)
		for _, t := range tmps {
			if err := os.RemoveAll(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// truncateMetrics keeps the metrics lines of steps ≤ step (all of them
// when step is 0 on a fresh file, none for a restart from scratch).
func truncateMetrics(path string, step int) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var keep bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		var line struct {
			Step *int `json:"step"`
		}
		// A torn last line (kill -9 mid-write) does not parse: dropped.
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Step == nil || *line.Step > step {
			continue
		}
		keep.Write(sc.Bytes())
		keep.WriteByte('\n')
	}
	if keep.Len() == len(b) {
		return nil
	}
	return safetensors.WriteAtomic(path, keep.Bytes())
}

// HashFile is the sha256 of a file, in hex.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return safetensors.WriteAtomic(path, append(b, '\n'))
}

// syncDir flushes a directory's entries (new files, renames) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
