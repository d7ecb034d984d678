package model

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/star-go/star/model/safetensors"
)

// AdamW's moments are saved as a safetensors file: "exp_avg.<param>" and
// "exp_avg_sq.<param>" in float32 (PyTorch's names), with the step in the
// metadata. Float32 exactly as held in memory, so a resumed run continues
// bit for bit.

// TokenizerFiles are the tokenizer and chat-template files a model directory
// may hold beside its weights (Save copies them from the source directory).
func TokenizerFiles() []string { return slices.Clone(tokenizerFiles) }

// SaveMoments writes the optimizer's moments to path atomically. It refuses
// while a gradient is accumulated but not applied: a checkpoint is taken
// between steps.
func (t *Trainer) SaveMoments(path string) error {
	if t.nAccum != 0 {
		return fmt.Errorf("save moments: %d micro-batches accumulated but not applied", t.nAccum)
	}
	var ts []safetensors.Tensor
	for _, pair := range []struct {
		prefix string
		list   []*tensors.Tensor
	}{{"exp_avg.", t.mom}, {"exp_avg_sq.", t.vel}} {
		for i, name := range t.M.Names {
			vals, err := tensors.CopyFlatData[float32](pair.list[i])
			if err != nil {
				return fmt.Errorf("save moments: %s%s: %w", pair.prefix, name, err)
			}
			st, err := safetensors.FromFloat32(pair.prefix+name, safetensors.F32, pair.list[i].Shape().Dimensions, vals)
			if err != nil {
				return err
			}
			ts = append(ts, st)
		}
	}
	return safetensors.WriteFile(path, ts, map[string]string{"step": strconv.Itoa(t.Step)})
}

// LoadMoments reads moments written by SaveMoments for a model of the same
// shape and sets Step from the file.
func (t *Trainer) LoadMoments(path string) error {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return err
	}
	mom := make([]*tensors.Tensor, len(t.M.Names))
	vel := make([]*tensors.Tensor, len(t.M.Names))
	for _, pair := range []struct {
		prefix string
		list   []*tensors.Tensor
	}{{"exp_avg.", mom}, {"exp_avg_sq.", vel}} {
		for i, name := range t.M.Names {
			st, ok := f.Tensors[pair.prefix+name]
			if !ok {
				return fmt.Errorf("%s: missing tensor %q", path, pair.prefix+name)
			}
			want := t.M.Params[name].Shape().Dimensions
			if !slices.Equal(st.Shape, want) || st.DType != safetensors.F32 {
				return fmt.Errorf("%s: %q is %s %v, want F32 %v", path, pair.prefix+name, st.DType, st.Shape, want)
			}
			vals, err := st.ToFloat32()
			if err != nil {
				return fmt.Errorf("%s: %q: %w", path, pair.prefix+name, err)
			}
			pair.list[i] = tensors.FromFlatDataAndDimensions(vals, st.Shape...)
		}
	}
	if len(f.Tensors) != 2*len(t.M.Names) {
		return fmt.Errorf("%s: %d tensors, want %d (a different model?)", path, len(f.Tensors), 2*len(t.M.Names))
	}
	step, err := strconv.Atoi(f.Metadata["step"])
	if err != nil {
		return fmt.Errorf("%s: metadata step %q: %v", path, f.Metadata["step"], err)
	}
	t.clearAccum()
	t.mom, t.vel, t.Step = mom, vel, step
	return nil
}

// Discard drops the gradient accumulated since the last Apply: the loop
// skips a step whose micro-batch had a non-finite loss.
func (t *Trainer) Discard() { t.clearAccum() }
