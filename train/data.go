package train

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/tokenizer"
)

// Example is one training sequence: prompt tokens then target tokens; the
// loss is on the targets only.
type Example struct {
	ID   string // the record's id (its JSON text when not a string)
	Line int    // line in the data file
	// Key identifies the untruncated token sequence (the top-k store's key).
	Key uint64
	// Seq is the prompt followed by the targets, cut to --max-len.
	Seq       []int
	PromptLen int
	Truncated bool
}

// Targets is the number of target tokens (loss positions).
func (e *Example) Targets() int { return len(e.Seq) - e.PromptLen }

// Mask is the loss mask over the scored positions (row t-1 scores token t).
func (e *Example) Mask() []float32 {
	m := make([]float32, len(e.Seq)-1)
	for t := e.PromptLen; t < len(e.Seq); t++ {
		m[t-1] = 1
	}
	return m
}

// DataOptions control how a data file is read.
type DataOptions struct {
	// ModelDir holds tokenizer.json for text records ({id, inputs, targets}).
	ModelDir string
	// Vocab bounds token ids (the model's vocab_size).
	Vocab int
	// MaxLen cuts sequences from the right (0: no limit).
	MaxLen int
}

// DataStats counts what reading a file did.
type DataStats struct {
	Records, Kept, Truncated, Rejected int
	Tokens, TargetTokens               int64
}

// record is a line of training data: text (what `star data trainset`
// writes) or token ids (`--token-ids`).
type record struct {
	ID        json.RawMessage `json:"id"`
	Inputs    *string         `json:"inputs"`
	Targets   *string         `json:"targets"`
	InputIDs  []int           `json:"input_ids"`
	TargetIDs []int           `json:"target_ids"`
}

// ErrNoTokenizer: text records need the model directory's tokenizer.
var ErrNoTokenizer = errors.New("text records need the model's tokenizer.json")

// ReadExamples reads a JSONL file of {id, inputs, targets} or {id,
// input_ids, target_ids} records. Records that cannot be used (malformed,
// an id out of the vocabulary, no target left after --max-len) go to
// rejects with file:line and the field; a missing tokenizer for text records
// is fatal.
func ReadExamples(path string, opt DataOptions, rejects *jsonl.Rejects) ([]*Example, DataStats, error) {
	var st DataStats
	if rejects == nil {
		rejects, _ = jsonl.NewRejects("")
	}
	rd, err := jsonl.Open(path)
	if err != nil {
		return nil, st, err
	}
	defer rd.Close()
	var tok *tokenizer.Tokenizer
	var out []*Example
	reject := func(e *jsonl.Error) error {
		st.Rejected++
		return rejects.Add(e, rd.Bytes())
	}
	for rd.Next() {
		st.Records++
		var r record
		if err := json.Unmarshal(rd.Bytes(), &r); err != nil {
			field := ""
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				field = te.Field
			}
			if err := reject(rd.Errorf(field, "%v", err)); err != nil {
				return nil, st, err
			}
			continue
		}
		var in, tg []int
		switch {
		case r.InputIDs != nil || r.TargetIDs != nil:
			in, tg = r.InputIDs, r.TargetIDs
		case r.Inputs != nil && r.Targets != nil:
			if tok == nil {
				if tok, err = tokenizer.Load(opt.ModelDir); err != nil {
					return nil, st, fmt.Errorf("%s:%d: %w: %v", path, rd.Line(), ErrNoTokenizer, err)
				}
			}
			in, tg = tok.Encode(*r.Inputs), tok.Encode(*r.Targets)
		default:
			if err := reject(rd.Errorf("", "want {id, inputs, targets} (text) or {id, input_ids, target_ids}")); err != nil {
				return nil, st, err
			}
			continue
		}
		ex, ferr := makeExample(r.ID, in, tg, opt)
		if ferr != nil {
			if err := reject(rd.Wrap(ferr)); err != nil {
				return nil, st, err
			}
			continue
		}
		ex.Line = rd.Line()
		if ex.ID == "" {
			ex.ID = fmt.Sprintf("%s:%d", filepath.Base(path), rd.Line())
		}
		if ex.Truncated {
			st.Truncated++
		}
		st.Kept++
		st.Tokens += int64(len(ex.Seq))
		st.TargetTokens += int64(ex.Targets())
		out = append(out, ex)
	}
	if err := rd.Err(); err != nil {
		return nil, st, err
	}
	return out, st, nil
}

func makeExample(rawID json.RawMessage, in, tg []int, opt DataOptions) (*Example, error) {
	for _, f := range []struct {
		name string
		ids  []int
	}{{"input_ids", in}, {"target_ids", tg}} {
		for i, id := range f.ids {
			if id < 0 || (opt.Vocab > 0 && id >= opt.Vocab) {
				return nil, jsonl.Errorf(f.name, "token %d at position %d is outside the vocabulary [0,%d)", id, i, opt.Vocab)
			}
		}
	}
	if len(in) == 0 {
		return nil, jsonl.Errorf("inputs", "empty prompt (the first target token needs one token before it)")
	}
	if len(tg) == 0 {
		return nil, jsonl.Errorf("targets", "empty target")
	}
	ex := &Example{ID: idString(rawID), Key: SeqKey(in, tg), PromptLen: len(in)}
	ex.Seq = append(append(make([]int, 0, len(in)+len(tg)), in...), tg...)
	if opt.MaxLen > 0 && len(ex.Seq) > opt.MaxLen {
		if len(in) >= opt.MaxLen {
			return nil, jsonl.Errorf("targets", "empty after --max-len %d truncation (the prompt has %d tokens)", opt.MaxLen, len(in))
		}
		ex.Seq, ex.Truncated = ex.Seq[:opt.MaxLen], true
	}
	return ex, nil
}

func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// SeqKey is a 64-bit FNV-1a hash of a record's prompt and target ids: the
// top-k store finds a record's rows by it, so a store made from other data
// or another tokenization is noticed rather than silently misaligned.
func SeqKey(in, tg []int) uint64 {
	h := fnv.New64a()
	var b [4]byte
	for _, ids := range [][]int{in, tg} {
		binary.LittleEndian.PutUint32(b[:], uint32(len(ids)))
		h.Write(b[:])
		for _, id := range ids {
			binary.LittleEndian.PutUint32(b[:], uint32(id))
			h.Write(b[:])
		}
	}
	return h.Sum64()
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
