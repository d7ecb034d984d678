// Package sample labels message records and draws STAR's stratified Sim-RL
// sample (STAR-SPEC §3). The RL set must cover single- and multi-turn,
// parallel and single calls, text replies and multi-step tool use in fixed
// minimum shares, or the small student over-fits to the dominant kind (XLAM
// is almost all single-turn calls); the greedy quota walk over a seeded
// shuffle guarantees those shares and, with Python's own generator (Rand),
// picks exactly the records the original picks.
package sample

import (
	"fmt"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/internal/pyjson"
)

// Tags of an assistant message.
const (
	TagResponse  = "response"   // non-empty text content
	TagParallel  = "parallel"   // more than one tool call
	TagSingle    = "single"     // exactly one tool call
	TagMultiStep = "multi-step" // calls right after a tool message
)

// Label describes one assistant message of a record.
type Label struct {
	Index       int      // position in messages
	Turns       int      // (Index+1)/2, the dialogue turn
	ToolCallNum int      // number of tool calls
	Tags        []string // in the order response, parallel|single, multi-step
}

// Has reports whether the label carries tag.
func (l Label) Has(tag string) bool {
	for _, t := range l.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// Object is the label as JSON: {"index", "turns", "tool_call_num", "tags"}.
func (l Label) Object() *pyjson.Object {
	tags := make([]any, len(l.Tags))
	for i, t := range l.Tags {
		tags[i] = t
	}
	return pyjson.NewObject("index", int64(l.Index), "turns", int64(l.Turns), "tool_call_num", int64(l.ToolCallNum), "tags", tags)
}

// LabelMessages labels every assistant message.
func LabelMessages(ms []message.Message) []Label {
	var out []Label
	for i, m := range ms {
		if m.Role != message.Assistant {
			continue
		}
		l := Label{Index: i, Turns: (i + 1) / 2, ToolCallNum: len(m.ToolCalls), Tags: []string{}}
		if m.Content != nil && *m.Content != "" {
			l.Tags = append(l.Tags, TagResponse)
		}
		switch {
		case len(m.ToolCalls) > 1:
			l.Tags = append(l.Tags, TagParallel)
		case len(m.ToolCalls) == 1:
			l.Tags = append(l.Tags, TagSingle)
		}
		if len(m.ToolCalls) > 0 && i > 0 && ms[i-1].Role == message.Tool {
			l.Tags = append(l.Tags, TagMultiStep)
		}
		out = append(out, l)
	}
	return out
}

// Annotate validates rec and sets its "labels" field to the labels of its
// assistant messages (a list of Label objects).
func Annotate(rec *pyjson.Object) error {
	r, err := message.Parse(rec)
	if err != nil {
		return err
	}
	ls := LabelMessages(r.Messages)
	list := make([]any, len(ls))
	for i, l := range ls {
		list[i] = l.Object()
	}
	rec.Set("labels", list)
	return nil
}

// LastLabel is the label of the record's last assistant message, the one
// sampling stratifies on; from the "labels" field when present.
func LastLabel(rec *pyjson.Object) (Label, error) {
	if v, ok := rec.Get("labels"); ok {
		return lastFromField(v)
	}
	r, err := message.Parse(rec)
	if err != nil {
		return Label{}, err
	}
	ls := LabelMessages(r.Messages)
	if len(ls) == 0 {
		return Label{}, jsonl.Errorf("messages", "no assistant message to label")
	}
	return ls[len(ls)-1], nil
}

func lastFromField(v any) (Label, error) {
	list, ok := v.([]any)
	if !ok {
		return Label{}, jsonl.Errorf("labels", "is %s, want an array", jsonl.TypeName(v))
	}
	if len(list) == 0 {
		return Label{}, jsonl.Errorf("labels", "is empty (no assistant message)")
	}
	f := fmt.Sprintf("labels[%d]", len(list)-1)
	o, ok := list[len(list)-1].(*pyjson.Object)
	if !ok {
		return Label{}, jsonl.Errorf(f, "is %s, want an object", jsonl.TypeName(list[len(list)-1]))
	}
	var l Label
	for _, kv := range []struct {
		key string
		dst *int
	}{{"index", &l.Index}, {"turns", &l.Turns}, {"tool_call_num", &l.ToolCallNum}} {
		x, ok := o.Get(kv.key)
		n, isInt := x.(int64)
		if !ok || !isInt {
			return Label{}, jsonl.Errorf(f+"."+kv.key, "is %s, want an integer", jsonl.TypeName(x))
		}
		*kv.dst = int(n)
	}
	tv, _ := o.Get("tags")
	tags, ok := tv.([]any)
	if !ok {
		return Label{}, jsonl.Errorf(f+".tags", "is %s, want an array", jsonl.TypeName(tv))
	}
	for i, t := range tags {
		s, ok := t.(string)
		if !ok {
			return Label{}, jsonl.Errorf(fmt.Sprintf("%s.tags[%d]", f, i), "is %s, want a string", jsonl.TypeName(t))
		}
		l.Tags = append(l.Tags, s)
	}
	return l, nil
}
