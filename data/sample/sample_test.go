package sample

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

func load(t *testing.T, paths ...string) []*pyjson.Object {
	t.Helper()
	var out []*pyjson.Object
	for _, p := range paths {
		rd, err := jsonl.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for rd.Next() {
			o, err := rd.Object()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, o)
		}
		if err := rd.Err(); err != nil {
			t.Fatal(err)
		}
		rd.Close()
	}
	return out
}

func ids(rs []*pyjson.Object) []string {
	var out []string
	for _, r := range rs {
		id, _ := r.Get("id")
		out = append(out, id.(string))
	}
	return out
}

// The expected ids come from a direct Python rendering of STAR-SPEC §3
// (random.seed(42); random.shuffle(records); quota walk; random.sample).
func TestDrawMatchesPython(t *testing.T) {
	recs := load(t, fixture.Path(t, "data/star/example_messages.jsonl"))
	res, err := Draw(recs, Options{N: 40, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields("xlam-9550 xlam-35024 xlam-57063 xlam-16734 xlam-35186 xlam-25449 xlam-43734 xlam-49448 xlam-2345 xlam-12136 xlam-3503 xlam-21215 xlam-43994 xlam-22488 xlam-32125 xlam-14186 xlam-33235 xlam-21804 xlam-35933 xlam-42973 xlam-39490 xlam-7099 xlam-31152 xlam-35236 xlam-39636 xlam-50062 xlam-15953 xlam-14709 xlam-24428 xlam-48861 xlam-1706 xlam-28995 xlam-26055 xlam-18627 xlam-48743 xlam-50859 xlam-16138 xlam-14740 xlam-35050 xlam-28019")
	if got := ids(res.Records); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
	if res.TakenTotal != 40 {
		t.Errorf("taken %d, want 40 (parallel and single quotas met; no multi-turn record)", res.TakenTotal)
	}

	f := func(name string) string { return fixture.Path(t, "fixtures/formats/"+name+".expected_messages.jsonl") }
	mixed := load(t, f("toolace_qwen_cleaned_SYNTHETIC"), f("toolmind_graphsyn_SYNTHETIC"), f("hammer_raw_SYNTHETIC"),
		fixture.Path(t, "data/star/example_messages.jsonl"))
	res, err = Draw(mixed, Options{N: 20, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	want = strings.Fields("xlam-37128 xlam-49663 xlam-823 xlam-7520 xlam-8786 xlam-6884 xlam-58907 xlam-20234 xlam-27349 xlam-45262 xlam-11282 xlam-18158 xlam-8465 xlam-30623 xlam-56440 xlam-45879 xlam-24882 xlam-45873 hammer_demo_0 toolmind_0")
	if got := ids(res.Records); !reflect.DeepEqual(got, want) {
		t.Errorf("mixed: got %v", got)
	}
	var b strings.Builder
	res.Table(&b)
	t.Log("\n" + b.String())
}

func TestLabels(t *testing.T) {
	recs := load(t, fixture.Path(t, "fixtures/formats/toolmind_graphsyn_SYNTHETIC.expected_messages.jsonl"),
		fixture.Path(t, "fixtures/formats/toolace_qwen_cleaned_SYNTHETIC.expected_messages.jsonl"))
	if err := Annotate(recs[0]); err != nil {
		t.Fatal(err)
	}
	v, _ := recs[0].Get("labels")
	want := `[{"index": 1, "turns": 1, "tool_call_num": 1, "tags": ["single"]}, {"index": 3, "turns": 2, "tool_call_num": 1, "tags": ["single", "multi-step"]}, {"index": 5, "turns": 3, "tool_call_num": 0, "tags": ["response"]}]`
	if got := pyjson.MarshalString(v); got != want {
		t.Errorf("labels %s", got)
	}
	l, err := LastLabel(recs[0]) // from the field
	if err != nil || l.Turns != 3 || !l.Has(TagResponse) {
		t.Errorf("LastLabel = %+v, %v", l, err)
	}
	l, err = LastLabel(recs[2]) // toolace-2-2: parallel, computed
	if err != nil || l.Turns != 1 || l.ToolCallNum != 2 || !reflect.DeepEqual(l.Tags, []string{TagParallel}) {
		t.Errorf("LastLabel = %+v, %v", l, err)
	}
	for _, c := range []struct{ rec, want string }{
		{`{"messages": [{"role": "user", "content": "x"}]}`, "no assistant message"},
		{`{"messages": [{"role": "user", "content": "x"}], "labels": {}}`, "labels: is an object, want an array"},
		{`{"messages": [], "labels": [{"index": 1, "turns": "1", "tool_call_num": 0, "tags": []}]}`, "labels[0].turns: is a string, want an integer"},
	} {
		v, _ := pyjson.UnmarshalString(c.rec)
		if _, err := LastLabel(v.(*pyjson.Object)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.rec, err, c.want)
		}
	}
}

// Quota rules on synthetic records: turns > 10 skipped, responses stop at
// their quota, prompt-length drop.
func TestDrawRules(t *testing.T) {
	mk := func(id string, userTurns int, response bool) *pyjson.Object {
		var ms []any
		for i := 0; i < userTurns; i++ {
			if i > 0 {
				ms = append(ms, pyjson.NewObject("role", "assistant", "content", "ok"))
			}
			ms = append(ms, pyjson.NewObject("role", "user", "content", "q"))
		}
		if response {
			ms = append(ms, pyjson.NewObject("role", "assistant", "content", "answer"))
		} else {
			ms = append(ms, pyjson.NewObject("role", "assistant", "content", nil, "tool_calls", []any{pyjson.NewObject("name", "f", "arguments", pyjson.NewObject())}))
		}
		return pyjson.NewObject("id", id, "messages", ms, "tools", []any{pyjson.NewObject("name", "f", "description", "", "parameters", pyjson.NewObject())})
	}
	var recs []*pyjson.Object
	for i := 0; i < 50; i++ {
		recs = append(recs, mk("r"+string(rune('a'+i%26))+string(rune('a'+i/26)), 1+i%3, true))
	}
	recs = append(recs, mk("long", 12, false))
	res, err := Draw(recs, Options{N: 10, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	if res.Taken["response"] != 2 || res.SkippedResponse == 0 {
		t.Errorf("response quota: %+v", res)
	}
	for _, r := range res.Records {
		if id, _ := r.Get("id"); id == "long" {
			t.Error("turns > 10 taken")
		}
	}
	res, err = Draw(recs, Options{N: 0, Seed: 42, MaxPromptTokens: 5, PromptTokens: func(r *pyjson.Object) (int, error) {
		ms, _ := r.Get("messages")
		return len(ms.([]any)), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.SkippedTurns != 1 || len(res.Records)+res.TooLong != 50 || res.TooLong == 0 {
		t.Errorf("keep all: %d records, %d too long, %d skipped turns", len(res.Records), res.TooLong, res.SkippedTurns)
	}
	_ = os.Getenv
	_ = filepath.Join
}
