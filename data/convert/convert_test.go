package convert

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

var pairs = map[string]string{
	"xlam":     "xlam_raw_RECONSTRUCTED",
	"toolace":  "toolace_qwen_cleaned_SYNTHETIC",
	"toolmind": "toolmind_graphsyn_SYNTHETIC",
	"hammer":   "hammer_raw_SYNTHETIC",
}

func lines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			out = append(out, append([]byte(nil), sc.Bytes()...))
		}
	}
	return out
}

// TestFixtures: every raw fixture converts to the original's output byte for
// byte (the expected files are before filter_on_simrl).
func TestFixtures(t *testing.T) {
	for format, base := range pairs {
		t.Run(format, func(t *testing.T) {
			conv, err := Lookup(format)
			if err != nil {
				t.Fatal(err)
			}
			raw := lines(t, fixture.Path(t, "fixtures/formats/"+base+".jsonl"))
			want := lines(t, fixture.Path(t, "fixtures/formats/"+base+".expected_messages.jsonl"))
			var got [][]byte
			for i, l := range raw {
				v, err := pyjson.Unmarshal(l)
				if err != nil {
					t.Fatal(err)
				}
				out, err := conv(i, v)
				if err != nil {
					t.Logf("record %d: %v", i, err)
					continue
				}
				for _, o := range out {
					got = append(got, pyjson.Marshal(o))
				}
			}
			if len(got) != len(want) {
				t.Fatalf("got %d records, want %d", len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("record %d:\n got %s\nwant %s", i, got[i], want[i])
				}
			}
		})
	}
}

// TestRunNoFilter: the streaming Run gives the same bytes as the expected
// files, and ToolACE's sample-less dialogue is a reject with its line.
func TestRunNoFilter(t *testing.T) {
	dir := t.TempDir()
	for format, base := range pairs {
		out := filepath.Join(dir, format+".jsonl")
		rej := filepath.Join(dir, format+".rejects.jsonl")
		st, err := Run(context.Background(), Options{Format: format, In: fixture.Path(t, "fixtures/formats/"+base+".jsonl"), Out: out, Rejects: rej, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(out)
		want, _ := os.ReadFile(fixture.Path(t, "fixtures/formats/"+base+".expected_messages.jsonl"))
		if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
			t.Errorf("%s: output differs from expected", format)
		}
		if format == "toolace" {
			if st.Rejected != 1 {
				t.Errorf("toolace: %d rejected, want 1", st.Rejected)
			}
			r, _ := os.ReadFile(rej)
			if !strings.Contains(string(r), `"line": 2`) || !strings.Contains(string(r), "no usable assistant turn") {
				t.Errorf("toolace rejects: %s", r)
			}
		} else if st.Rejected != 0 {
			t.Errorf("%s: %d rejected: %v", format, st.Rejected, st.Reasons)
		}
	}
}

// TestRunFilter applies filter_on_simrl with the Qwen3 template.
func TestRunFilter(t *testing.T) {
	tmpl, err := chat.Load(filepath.Dir(fixture.Path(t, "fixtures/qwen3/chat_template.jinja")))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for format, base := range pairs {
		out := filepath.Join(dir, format+".jsonl")
		st, err := Run(context.Background(), Options{Format: format, In: fixture.Path(t, "fixtures/formats/"+base+".jsonl"), Out: out, Filter: NewFilter(tmpl)})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d records, %d written, %d rejected %v", format, st.Records, st.Written, st.Rejected, st.Reasons)
	}
}

// TestFilterRejects: filter_on_simrl drops calls to unknown tools, unknown
// argument names and unparseable arguments, each as a reject with its line.
func TestFilterRejects(t *testing.T) {
	tmpl, err := chat.Load(filepath.Dir(fixture.Path(t, "fixtures/qwen3/chat_template.jinja")))
	if err != nil {
		t.Fatal(err)
	}
	tools := `"tools": "[{\"name\": \"f\", \"description\": \"d\", \"parameters\": {\"x\": {\"type\": \"int\"}}}]"`
	in := strings.Join([]string{
		`{"id": 1, "query": "q", "answers": "[{\"name\": \"f\", \"arguments\": {\"x\": 1}}]", ` + tools + `}`,
		`{"id": 2, "query": "q", "answers": "[{\"name\": \"g\", \"arguments\": {\"x\": 1}}]", ` + tools + `}`,
		`{"id": 3, "query": "q", "answers": "[{\"name\": \"f\", \"arguments\": {\"y\": 1}}]", ` + tools + `}`,
		`{"id": 4, "query": "q", "answers": "[]", ` + tools + `}`,
		`{"id": 5, "query": "q", "answers": [{"name": "f", "arguments": "{bad"}], ` + tools + `}`,
	}, "\n") + "\n"
	dir := t.TempDir()
	p := filepath.Join(dir, "in.jsonl")
	os.WriteFile(p, []byte(in), 0o644)
	rej := filepath.Join(dir, "rej.jsonl")
	st, err := Run(context.Background(), Options{Format: "xlam", In: p, Out: filepath.Join(dir, "out.jsonl"), Rejects: rej, Filter: NewFilter(tmpl)})
	if err != nil {
		t.Fatal(err)
	}
	// Record 4 (no calls, no content) is an empty target: dropped (§2).
	if st.Written != 1 || st.Rejected != 4 {
		t.Errorf("written %d rejected %d (%v), want 1 and 4", st.Written, st.Rejected, st.Reasons)
	}
	r, _ := os.ReadFile(rej)
	for _, want := range []string{`"line": 2`, `"line": 3`, `"line": 4`, `empty target`, `"line": 5`, `unknown tool \"g\"`, `filter_on_simrl`} {
		if !strings.Contains(string(r), want) {
			t.Errorf("rejects lack %s:\n%s", want, r)
		}
	}
}
