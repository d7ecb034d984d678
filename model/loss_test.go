package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

type lossCase struct {
	K          int                  `json:"k"`
	KLType     string               `json:"kl_type"`
	L1Coef     float64              `json:"l1_coef"`
	M          int                  `json:"m"`
	KDRatio    float64              `json:"kd_ratio"`
	Estimator  string               `json:"advantage_estimator"`
	EpsClip    float64              `json:"eps_clip"`
	KLCoef     float64              `json:"kl_coef"`
	Advantages []float64            `json:"advantages"`
	Loss       float64              `json:"loss"`
	Policy     float64              `json:"policy_loss"`
	KL         float64              `json:"kl"`
	GradNorm   float64              `json:"grad_norm"`
	Entries    map[string][]float64 `json:"grad_entries"`
	TeacherTop struct {
		Vals []float64 `json:"vals"`
		IDs  []int     `json:"ids"`
	} `json:"teacher_topk_first_position"`
}

type lossFixture struct {
	CKD struct {
		Sequences [][]int    `json:"sequences"`
		PromptLen []int      `json:"prompt_len"`
		Cases     []lossCase `json:"cases"`
	} `json:"ckd"`
	GRPO struct {
		Sequences  [][]int     `json:"sequences"`
		ActionMask [][]float32 `json:"action_mask"`
		Rewards    []float64   `json:"rewards"`
		OldLogp    [][]float32 `json:"old_logp"`
		RefLogp    [][]float32 `json:"ref_logp"`
		Logp       [][]float64 `json:"logp"`
		N          int         `json:"n_samples_per_prompt"`
		Cases      []lossCase  `json:"cases"`
	} `json:"grpo"`
}

func loadLosses(t *testing.T) *lossFixture {
	b, err := os.ReadFile(filepath.Join(fixtureDir, "losses.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f lossFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(math.Abs(want), 1e-6)
}

var entryRE = regexp.MustCompile(`^(.*?)(?:\[(\d+),:(\d+)\])?$`)

// checkGrads compares the gradient norm and the listed entries; a name
// "x[r,:n]" is row r's first n values, a plain name the first values.
func checkGrads(t *testing.T, m *Model, r *LossResult, c lossCase, what string) {
	t.Helper()
	if gn := r.GradNorm(); !relClose(gn, c.GradNorm, 1e-4) {
		t.Errorf("%s: grad norm %.8g, want %.8g", what, gn, c.GradNorm)
	}
	for key, want := range c.Entries {
		sub := entryRE.FindStringSubmatch(key)
		g, err := m.Grad(r, sub[1])
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		off := 0
		if sub[2] != "" {
			row, _ := strconv.Atoi(sub[2])
			off = row * m.Params[sub[1]].Shape().Dimensions[1]
		}
		scale := 0.0
		for _, w := range want {
			scale = math.Max(scale, math.Abs(w))
		}
		for i, w := range want {
			if math.Abs(float64(g[off+i])-w) > 1e-4*scale+1e-9 {
				t.Errorf("%s: %s[%d] = %.8g, want %.8g", what, key, i, g[off+i], w)
			}
		}
	}
}

func TestCKDLossesMatchReference(t *testing.T) {
	f := loadLosses(t)
	student, teacher := fixtureModel(t, "tied-f32"), fixtureModel(t, "untied-bf16")
	seqs := f.CKD.Sequences
	var mask [][]float32
	for b, s := range seqs {
		row := make([]float32, len(s)-1)
		for t := f.CKD.PromptLen[b]; t < len(s); t++ {
			row[t-1] = 1 // token t is a completion token
		}
		mask = append(mask, row)
	}
	for _, c := range f.CKD.Cases {
		vals, ids, err := teacher.TopKLogprobs(seqs, c.K)
		if err != nil {
			t.Fatal(err)
		}
		first := f.CKD.PromptLen[0] - 1
		for i, w := range c.TeacherTop.Vals {
			if ids[0][first][i] != c.TeacherTop.IDs[i] || math.Abs(float64(vals[0][first][i])-w) > 1e-4 {
				t.Fatalf("teacher top-k at the first completion position: %v %v, want %v %v", ids[0][first][:3], vals[0][first][:3], c.TeacherTop.IDs[:3], c.TeacherTop.Vals[:3])
			}
		}
		obj := &CKD{Seqs: seqs, Mask: mask, TeacherLogprobs: vals, TeacherIDs: ids,
			KLType: c.KLType, TailCoef: c.L1Coef, TopM: c.M, KDRatio: c.KDRatio}
		r, err := student.LossAndGrad(obj)
		if err != nil {
			t.Fatal(err)
		}
		what := obj.Key()
		if !relClose(r.Loss, c.Loss, 1e-4) {
			t.Errorf("%s: loss %.8g, want %.8g (metrics %v)", what, r.Loss, c.Loss, r.Metrics)
		}
		checkGrads(t, student, r, c, what)
	}
}

func TestGRPOLossesMatchReference(t *testing.T) {
	f := loadLosses(t)
	m := fixtureModel(t, "tied-f32")
	g := f.GRPO
	lp, err := m.TokenLogprobs(g.Sequences)
	if err != nil {
		t.Fatal(err)
	}
	for b := range g.Logp {
		for i, w := range g.Logp[b] {
			if math.Abs(float64(lp[b][i])-w) > 1e-4*math.Abs(w) {
				t.Fatalf("token logprob [%d][%d] = %v, want %v", b, i, lp[b][i], w)
			}
		}
	}
	for _, c := range g.Cases {
		adv, err := Advantages(g.Rewards, g.N, c.Estimator)
		if err != nil {
			t.Fatal(err)
		}
		for i := range adv {
			if math.Abs(adv[i]-c.Advantages[i]) > 1e-9 {
				t.Errorf("%s advantage %d = %v, want %v", c.Estimator, i, adv[i], c.Advantages[i])
			}
		}
		obj := &GRPO{Seqs: g.Sequences, Mask: g.ActionMask, OldLogprobs: g.OldLogp, RefLogprobs: g.RefLogp,
			Advantages: adv, ClipEps: c.EpsClip, KLCoef: c.KLCoef}
		r, err := m.LossAndGrad(obj)
		if err != nil {
			t.Fatal(err)
		}
		if !relClose(r.Loss, c.Loss, 1e-4) || !relClose(r.Metrics["policy_loss"], c.Policy, 1e-4) || !relClose(r.Metrics["kl"], c.KL, 1e-4) {
			t.Errorf("%s: loss %.8g policy %.8g kl %.8g, want %.8g %.8g %.8g", c.Estimator,
				r.Loss, r.Metrics["policy_loss"], r.Metrics["kl"], c.Loss, c.Policy, c.KL)
		}
		checkGrads(t, m, r, c, "grpo "+c.Estimator)
	}
}

// TestCrossEntropyGradient: CrossEntropy's hand-written gradient equals
// autodiff through log_softmax (CKD with KDRatio 0 is pure CE by autodiff).
func TestCrossEntropyGradient(t *testing.T) {
	m := fixtureModel(t, "untied-bf16")
	seqs := [][]int{{5, 17, 42, 7, 9, 300, 4}, {8, 1, 2}}
	mask := [][]float32{{0, 0, 1, 1, 1, 1}, {1, 1}}
	ce, err := m.LossAndGrad(&CrossEntropy{Seqs: seqs, Mask: mask})
	if err != nil {
		t.Fatal(err)
	}
	vals, ids, err := m.TopKLogprobs(seqs, 5)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := m.LossAndGrad(&CKD{Seqs: seqs, Mask: mask, TeacherLogprobs: vals, TeacherIDs: ids, KLType: "fkl", KDRatio: 0})
	if err != nil {
		t.Fatal(err)
	}
	if !relClose(ce.Loss, ref.Loss, 1e-5) {
		t.Errorf("loss %v, autodiff %v", ce.Loss, ref.Loss)
	}
	// Independent check of the value: −mean log p over the masked tokens.
	lp, _ := m.TokenLogprobs(seqs)
	want := -(float64(lp[0][2]+lp[0][3]+lp[0][4]+lp[0][5]) + float64(lp[1][0]+lp[1][1])) / 6
	if !relClose(ce.Loss, want, 1e-5) {
		t.Errorf("loss %v, from token log-probs %v", ce.Loss, want)
	}
	if !relClose(ce.GradNorm(), ref.GradNorm(), 1e-4) {
		t.Errorf("grad norm %v, autodiff %v", ce.GradNorm(), ref.GradNorm())
	}
	for _, n := range []string{"lm_head.weight", "model.embed_tokens.weight", "model.layers.2.mlp.down_proj.weight"} {
		a, _ := m.Grad(ce, n)
		b, _ := m.Grad(ref, n)
		var scale float64
		for _, v := range b {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-4*scale {
				t.Fatalf("%s[%d]: %v, autodiff %v", n, i, a[i], b[i])
			}
		}
	}
}
