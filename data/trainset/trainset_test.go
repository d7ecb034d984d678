package trainset

import (
	"testing"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

// sources maps record ids to their messages records: STAR's example file and
// the chat-template fixture rows (whose messages_json_source, when present,
// is the exact JSON; the messages field there lost float/int distinctions).
func sources(t *testing.T) map[string]*message.Record {
	t.Helper()
	recs := map[string]*message.Record{}
	add := func(id string, o *pyjson.Object) {
		if _, seen := recs[id]; seen {
			return
		}
		r, err := message.Parse(o)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		recs[id] = r
	}
	rd, err := jsonl.Open(fixture.Path(t, "data/star/example_messages.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for rd.Next() {
		o, err := rd.Object()
		if err != nil {
			t.Fatal(err)
		}
		id, _ := o.Get("id")
		add(id.(string), o)
	}
	rd.Close()
	rd, err = jsonl.Open(fixture.Path(t, "fixtures/qwen3/chat_template.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	for rd.Next() {
		o, err := rd.Object()
		if err != nil {
			t.Fatal(err)
		}
		id, _ := o.Get("id")
		msgs, _ := o.Get("messages")
		if src, ok := o.Get("messages_json_source"); ok {
			// Some rows keep only the tool-call arguments there; those rows
			// are not in trainset.jsonl, and their messages field is lossy.
			exact, err := pyjson.UnmarshalString(src.(string))
			if err != nil {
				t.Fatal(err)
			}
			if _, isList := exact.([]any); !isList {
				continue
			}
			msgs = exact
		}
		tools, _ := o.Get("tools")
		add(id.(string), pyjson.NewObject("id", id, "messages", msgs, "tools", tools))
	}
	return recs
}

func TestTrainsetFixture(t *testing.T) {
	tmpl, err := chat.Load(fixture.Path(t, "fixtures/qwen3"))
	if err != nil {
		t.Fatal(err)
	}
	recs := sources(t)
	rd, err := jsonl.Open(fixture.Path(t, "fixtures/qwen3/trainset.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	n := 0
	for rd.Next() {
		want, err := rd.Object()
		if err != nil {
			t.Fatal(err)
		}
		idv, _ := want.Get("id")
		id := idv.(string)
		rec, ok := recs[id]
		if !ok {
			t.Fatalf("line %d: no source messages for id %q", rd.Line(), id)
		}
		for _, reasoning := range []bool{false, true} {
			b := Builder{Template: tmpl, Reasoning: reasoning}
			row, err := b.Build(rec)
			if err != nil {
				t.Errorf("%s: %v", id, err)
				continue
			}
			wantInputs, _ := want.Get("inputs")
			key := "targets"
			if reasoning {
				key = "targets_with_reasoning"
			}
			wantTargets, _ := want.Get(key)
			if row.Inputs != wantInputs {
				t.Errorf("%s: inputs differ\n got  %q\n want %q", id, row.Inputs, wantInputs)
			}
			if row.Targets != wantTargets {
				t.Errorf("%s: %s differ\n got  %q\n want %q", id, key, row.Targets, wantTargets)
			}
		}
		n++
	}
	if n != 74 {
		t.Errorf("checked %d rows, want 74", n)
	}
}

func TestNonAssistantTarget(t *testing.T) {
	tmpl, err := chat.Load(fixture.Path(t, "fixtures/qwen3"))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := pyjson.UnmarshalString(`{"id": "x", "messages": [{"role": "user", "content": "hi"}]}`)
	rec, err := message.Parse(v)
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&Builder{Template: tmpl}).Build(rec)
	if err == nil || err.Error() != `messages: last message is "user"; the training target must be an assistant message` {
		t.Errorf("error = %v", err)
	}
}
