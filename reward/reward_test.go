package reward

import (
	"bufio"
	"math"
	"os"
	"testing"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

// vector is one row of the reference vectors computed with STAR's simrl.py.
type vector struct {
	Case, ID, Prompt, Label, Generation string
	Reward, Answer, Format              any // as the original typed them
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open(fixture.Path(t, "fixtures/simrl/reward_vectors.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	var out []vector
	for sc.Scan() {
		v, err := pyjson.Unmarshal(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		o := v.(*pyjson.Object)
		str := func(k string) string { x, _ := o.Get(k); return x.(string) }
		get := func(k string) any { x, _ := o.Get(k); return x }
		out = append(out, vector{str("case"), str("id"), str("prompt"), str("label"), str("generation"),
			get("reward"), get("answer_score"), get("format_score")})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func close9(got float64, want any) bool {
	w, _ := pyjson.Float(want)
	return math.Abs(got-w) <= 1e-9
}

// TestFixtureVectors checks every reference row: values to 1e-9 and the
// Python types (int or float) of the three scores.
func TestFixtureVectors(t *testing.T) {
	vs := loadVectors(t)
	if len(vs) != 262 {
		t.Fatalf("%d vectors, want 262", len(vs))
	}
	bad := 0
	for i, v := range vs {
		r, err := Score(v.Prompt, v.Label, v.Generation)
		if err != nil {
			t.Errorf("row %d %s/%s: %v", i, v.Case, v.ID, err)
			bad++
			continue
		}
		rw, an, fo := r.Values()
		if !close9(r.Reward, v.Reward) || !close9(r.AnswerScore, v.Answer) || !close9(r.FormatScore, v.Format) {
			t.Errorf("row %d %s/%s: got reward %v answer %v format %v, want %v %v %v (%s)",
				i, v.Case, v.ID, r.Reward, r.AnswerScore, r.FormatScore, v.Reward, v.Answer, v.Format, r.Reason)
			bad++
			continue
		}
		if pyjson.MarshalString(rw) != pyjson.MarshalString(v.Reward) ||
			pyjson.MarshalString(an) != pyjson.MarshalString(v.Answer) ||
			pyjson.MarshalString(fo) != pyjson.MarshalString(v.Format) {
			t.Errorf("row %d %s/%s: Python types differ: got %s %s %s, want %s %s %s", i, v.Case, v.ID,
				pyjson.MarshalString(rw), pyjson.MarshalString(an), pyjson.MarshalString(fo),
				pyjson.MarshalString(v.Reward), pyjson.MarshalString(v.Answer), pyjson.MarshalString(v.Format))
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d rows differ", bad, len(vs))
	}
}
