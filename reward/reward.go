// Package reward is STAR's Sim-RL reward (simrl.py), exactly: a generated
// turn of tool calls is scored by its similarity to the label's calls, a text
// reply by ROUGE-L, and a malformed turn gets −1. See STAR-SPEC §6.1.
//
// The original is Python; this package reproduces its observable behaviour,
// Python semantics included: tool-call bodies are read as json.loads reads
// them (internal/pyjson), argument values compare with Python's == (True == 1
// == 1.0) and str(), strings are stripped as str.strip() strips, and ROUGE-L
// is rouge_score 0.1.2's with NLTK's Porter stemmer. It is checked to 1e-9
// against vectors computed with the original code.
//
// Where the original raises instead of scoring (a label without exactly one
// </think>, a label tool call that is not JSON, a prompt whose <tools> block
// is not one JSON tool per line, a few label/argument shapes its scoring code
// crashes on), this package returns an *InputError; the original aborts the
// whole batch there.
package reward

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/big"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/toolcall"
)

// Result is the reward of one generation.
type Result struct {
	// Reward is what GRPO optimises (OpenRLHF "rewards"): the answer score,
	// or −1 when the generation is malformed.
	Reward float64
	// AnswerScore is the answer score with format errors as 0 (OpenRLHF
	// "scores", used for dynamic filtering; extra log "answer_rewards").
	AnswerScore float64
	// FormatScore is 1, or −1 when the generation is malformed (extra log
	// "format_rewards").
	FormatScore float64
	// Int reports that the original returns Reward and AnswerScore as Python
	// ints (−1 and 0 for a format error, 0 when calls are missing, 1 or 0 for
	// identical or blank text) rather than floats; FormatScore is always an
	// int there. Only JSON output cares: 1 versus 1.0.
	Int bool
	// Reason says why a generation is malformed ("" when FormatScore is 1).
	Reason string
}

// Values returns the three scores typed as the original returns them
// (int64 or float64), for pyjson output.
func (r Result) Values() (reward, answer, format any) {
	if r.Int {
		return int64(r.Reward), int64(r.AnswerScore), int64(r.FormatScore)
	}
	return r.Reward, r.AnswerScore, int64(r.FormatScore)
}

// InputError is an input the original reward function raises on.
type InputError struct {
	Field string // "label", "prompt" or "arguments"
	Msg   string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// BatchError is the first row of a batch that could not be scored.
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string { return fmt.Sprintf("row %d: %v", e.Index, e.Err) }
func (e *BatchError) Unwrap() error { return e.Err }

const (
	assistantMarker = "<|im_start|>assistant\n"
	thinkOpen       = "<think>"
	thinkClose      = "</think>"
	callOpen        = "<tool_call>"
	callClose       = "</tool_call>"
)

// call is one parsed <tool_call> body.
type call struct {
	name, args any
}

// label is a parsed label (the training target).
type label struct {
	calls []call
	reply string
	// noReply: the answer mentions <tool_call> but holds no complete call;
	// the original then has neither calls nor a reply (None).
	noReply bool
}

// tool is one entry of the prompt's tool dict: name → parameter set.
type tool struct {
	name   any
	params any // keySet (a dict's keys), []any or string
}

// Scorer scores generations, caching the parse of the last label and prompt
// (OpenRLHF sends the n samples of a prompt together) and its ROUGE buffers.
// A Scorer is not safe for concurrent use; the package functions use a pool.
type Scorer struct {
	lastLabel  string
	label      *label
	labelErr   error
	haveLabel  bool
	lastPrompt string
	tools      []tool
	toolsErr   error
	promptTail string // the prompt after its last assistant marker
	havePrompt bool
	rouge      *rouge
	buf        []byte // head+generation
}

// NewScorer returns a Scorer.
func NewScorer() *Scorer { return &Scorer{rouge: newRouge()} }

var pool = sync.Pool{New: func() any { return NewScorer() }}

// Score scores generation, the text the model produced after prompt, against
// label. As in the original, the generation scored is the text after the last
// "<|im_start|>assistant\n" of prompt+generation (so a prompt ending in
// "<think>" contributes it).
func Score(prompt, label, generation string) (Result, error) {
	s := pool.Get().(*Scorer)
	defer pool.Put(s)
	return s.Score(prompt, label, generation)
}

// ScoreQuery scores a query as OpenRLHF sends it (prompt + response decoded
// with special tokens kept); prompt is used only for its <tools> block.
func ScoreQuery(query, prompt, label string) (Result, error) {
	s := pool.Get().(*Scorer)
	defer pool.Put(s)
	return s.ScoreQuery(query, prompt, label)
}

// Score is the package Score on this scorer.
func (s *Scorer) Score(prompt, label, generation string) (Result, error) {
	s.prompt(prompt)
	head, rest := splitGeneration(prompt, s.promptTail, generation)
	return s.score(prompt, label, head, rest)
}

// ScoreQuery is the package ScoreQuery on this scorer.
func (s *Scorer) ScoreQuery(query, prompt, label string) (Result, error) {
	if strings.HasPrefix(query, prompt) {
		// The usual case: query = prompt + response.
		return s.Score(prompt, label, query[len(prompt):])
	}
	s.prompt(prompt)
	return s.score(prompt, label, "", afterLast(query, assistantMarker))
}

// ScoreBatch is the original reward_func(queries, prompts, labels) on one
// core: one Result per row, or the first row the original raises on.
func ScoreBatch(queries, prompts, labels []string) ([]Result, error) {
	if err := checkLens(queries, prompts, labels); err != nil {
		return nil, err
	}
	s := pool.Get().(*Scorer)
	defer pool.Put(s)
	out := make([]Result, len(queries))
	for i := range queries {
		r, err := s.ScoreQuery(queries[i], prompts[i], labels[i])
		if err != nil {
			return nil, &BatchError{i, err}
		}
		out[i] = r
	}
	return out, nil
}

// minChunk is the smallest slice of a batch worth a goroutine.
const minChunk = 16

// ScoreBatchParallel is ScoreBatch on up to workers cores (0: GOMAXPROCS).
// Rows are split into contiguous chunks, so the samples of one prompt share
// a scorer's caches. It stops early when ctx is done.
func ScoreBatchParallel(ctx context.Context, workers int, queries, prompts, labels []string) ([]Result, error) {
	if err := checkLens(queries, prompts, labels); err != nil {
		return nil, err
	}
	n := len(queries)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if w := (n + minChunk - 1) / minChunk; w < workers {
		workers = w
	}
	if workers <= 1 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return ScoreBatch(queries, prompts, labels)
	}
	out := make([]Result, n)
	errs := make([]*BatchError, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := pool.Get().(*Scorer)
			defer pool.Put(s)
			for i := lo; i < hi; i++ {
				if (i-lo)%64 == 0 && ctx.Err() != nil {
					errs[w] = &BatchError{i, ctx.Err()}
					return
				}
				r, err := s.ScoreQuery(queries[i], prompts[i], labels[i])
				if err != nil {
					errs[w] = &BatchError{i, err}
					return
				}
				out[i] = r
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, e := range errs {
		if e != nil {
			return nil, e // the lowest failing row, as the original's loop
		}
	}
	return out, nil
}

func checkLens(queries, prompts, labels []string) error {
	if len(prompts) != len(queries) || len(labels) != len(queries) {
		return fmt.Errorf("reward: %d queries, %d prompts, %d labels: lengths differ",
			len(queries), len(prompts), len(labels))
	}
	return nil
}

// lastIndex is strings.LastIndex for separators that cannot overlap
// themselves, by forward search (which is vectorised).
func lastIndex(s, sep string) int {
	last := -1
	for off := 0; ; {
		i := strings.Index(s[off:], sep)
		if i < 0 {
			return last
		}
		last = off + i
		off = last + len(sep)
	}
}

// afterLast is s.split(sep)[-1].
func afterLast(s, sep string) string {
	if i := lastIndex(s, sep); i >= 0 {
		return s[i+len(sep):]
	}
	return s
}

// splitGeneration returns afterLast(prompt+gen, assistantMarker) as
// head+rest without building it; tail is afterLast(prompt, assistantMarker).
// head is "" unless the text starts in the prompt (its "<think>", usually).
func splitGeneration(prompt, tail, gen string) (head, rest string) {
	m := assistantMarker
	if i := lastIndex(gen, m); i >= 0 {
		return "", gen[i+len(m):]
	}
	// A marker across the boundary (at most one: it cannot overlap itself).
	for k := 1; k < len(m); k++ {
		if strings.HasSuffix(prompt, m[:k]) && strings.HasPrefix(gen, m[k:]) {
			return "", gen[len(m)-k:]
		}
	}
	return tail, gen
}

func (s *Scorer) parsedLabel(l string) (*label, error) {
	if !s.haveLabel || l != s.lastLabel {
		s.label, s.labelErr = parseLabel(l)
		s.lastLabel, s.haveLabel = l, true
	}
	return s.label, s.labelErr
}

// prompt makes prompt the cached one.
func (s *Scorer) prompt(prompt string) {
	if !s.havePrompt || prompt != s.lastPrompt {
		s.tools, s.toolsErr = parseTools(prompt)
		s.promptTail = afterLast(prompt, assistantMarker)
		s.lastPrompt, s.havePrompt = prompt, true
	}
}

// formatError is the original's −1 (format score −1, answer score 0).
func formatError(reason string) Result {
	return Result{Reward: -1, AnswerScore: 0, FormatScore: -1, Int: true, Reason: reason}
}

func (s *Scorer) score(prompt, labelText, head, gen string) (Result, error) {
	gt, err := s.parsedLabel(labelText)
	if err != nil {
		return Result{}, err
	}
	tools, err := s.tools, s.toolsErr // s.prompt(prompt) was called
	if err != nil {
		return Result{}, err
	}

	// parse_generation, on the text head+gen
	var answer string
	if head == "" {
		if n := toolcall.CountPairs(gen, thinkOpen, thinkClose); n != 1 {
			return formatError(fmt.Sprintf("%d <think></think> pairs, want 1", n)), nil
		}
		answer = afterLast(gen, thinkClose)
	} else {
		s.buf = append(append(s.buf[:0], head...), gen...)
		if n := countPairsBytes(s.buf, thinkOpen, thinkClose); n != 1 {
			return formatError(fmt.Sprintf("%d <think></think> pairs, want 1", n)), nil
		}
		end := lastIndexBytes(s.buf, thinkClose) + len(thinkClose)
		if end >= len(head) {
			answer = gen[end-len(head):]
		} else {
			answer = string(s.buf[end:])
		}
	}
	answer = pyStrip(answer)
	var calls []call
	var reply string
	if strings.Contains(answer, callOpen) {
		calls, err = parseCalls(answer)
		if err != nil {
			return formatError(err.Error()), nil
		}
	} else {
		reply = answer
	}

	// check_tool_calls_valid
	if reason := checkCalls(calls, tools); reason != "" {
		return formatError(reason), nil
	}

	// the answer score
	var v float64
	isInt := false
	switch {
	case len(gt.calls) > 0 && len(calls) > 0:
		v, err = s.callsScore(gt.calls, calls)
		if err != nil {
			return Result{}, err
		}
	case len(gt.calls) > 0:
		v, isInt = 0, true
	case reply != "":
		if gt.noReply {
			// get_rouge_score(reply, None): None.strip() raises.
			return Result{}, inputErr("label", "answer mentions <tool_call> but holds no complete call, and the generation replies with text")
		}
		v, isInt = s.textScore(reply, gt.reply)
	default:
		v, isInt = 0, true
	}
	return Result{Reward: v, AnswerScore: v, FormatScore: 1, Int: isInt}, nil
}

// countPairsBytes is toolcall.CountPairs on a byte slice.
func countPairsBytes(s []byte, open, close string) int {
	n := 0
	for {
		i := bytes.Index(s, []byte(open))
		if i < 0 {
			return n
		}
		s = s[i+len(open):]
		j := bytes.Index(s, []byte(close))
		if j < 0 {
			return n
		}
		n++
		s = s[j+len(close):]
	}
}

// lastIndexBytes is lastIndex on a byte slice.
func lastIndexBytes(s []byte, sep string) int {
	last := -1
	for off := 0; ; {
		i := bytes.Index(s[off:], []byte(sep))
		if i < 0 {
			return last
		}
		last = off + i
		off = last + len(sep)
	}
}

// parseCalls reads every <tool_call>…</tool_call> body as {name, arguments}.
func parseCalls(answer string) ([]call, error) {
	var calls []call
	s := answer
	for {
		i := strings.Index(s, callOpen)
		if i < 0 {
			return calls, nil
		}
		s = s[i+len(callOpen):]
		j := strings.Index(s, callClose)
		if j < 0 {
			return calls, nil
		}
		body := s[:j]
		s = s[j+len(callClose):]
		v, err := decodeJSON(body)
		if err != nil {
			return nil, fmt.Errorf("tool call %d: %v", len(calls)+1, err)
		}
		o, ok := v.(*pyjson.Object)
		if !ok {
			return nil, fmt.Errorf("tool call %d: %s, not an object", len(calls)+1, typeName(v))
		}
		name, ok := o.Get("name")
		if !ok {
			return nil, fmt.Errorf("tool call %d: no \"name\"", len(calls)+1)
		}
		args, ok := o.Get("arguments")
		if !ok {
			return nil, fmt.Errorf("tool call %d: no \"arguments\"", len(calls)+1)
		}
		calls = append(calls, call{name, args})
	}
}

// parseLabel is get_ground_truth_from_label.
func parseLabel(l string) (*label, error) {
	if n := strings.Count(l, thinkClose); n != 1 {
		return nil, inputErr("label", "%d </think> tags, want exactly 1", n)
	}
	answer := pyStrip(afterLast(l, thinkClose))
	gt := &label{}
	if strings.Contains(answer, callOpen) {
		calls, err := parseCalls(answer)
		if err != nil {
			return nil, inputErr("label", "%v", err)
		}
		gt.calls = calls
		gt.noReply = len(calls) == 0
	} else {
		gt.reply = answer
	}
	return gt, nil
}

// parseTools is extract_tools_from_prompt: the last <tools>…</tools> block,
// one JSON tool per line.
func parseTools(prompt string) ([]tool, error) {
	block, found := "", false
	s := prompt
	for {
		i := strings.Index(s, "<tools>")
		if i < 0 {
			break
		}
		s = s[i+len("<tools>"):]
		j := strings.Index(s, "</tools>")
		if j < 0 {
			break
		}
		block, found = s[:j], true
		s = s[j+len("</tools>"):]
	}
	if !found {
		return nil, nil
	}
	var tools []tool
	for line := range strings.SplitSeq(block, "\n") {
		line = pyStrip(line)
		if line == "" {
			continue
		}
		name, params, err := skimTool(line)
		if err != nil {
			return nil, inputErr("prompt", "tool %q: %v", clip(line), err)
		}
		if !hashable(name) {
			return nil, inputErr("prompt", "tool %q: name is a %s (unhashable)", clip(line), typeName(name))
		}
		switch p := params.(type) {
		case keySet:
		case []any:
			if containsEqual(p, "properties") {
				return nil, inputErr("prompt", "tool %q: parameters is a list holding \"properties\"", clip(line))
			}
		case string:
			if strings.Contains(p, "properties") {
				return nil, inputErr("prompt", "tool %q: parameters is a string holding \"properties\"", clip(line))
			}
		default:
			return nil, inputErr("prompt", "tool %q: parameters is a %s", clip(line), typeName(params))
		}
		// dict assignment: a repeated name keeps its place, takes the new value
		replaced := false
		for k := range tools {
			if keyEqual(tools[k].name, name) {
				tools[k].params = params
				replaced = true
				break
			}
		}
		if !replaced {
			tools = append(tools, tool{name, params})
		}
	}
	return tools, nil
}

func clip(s string) string {
	if len(s) > 80 {
		r := []rune(s)
		if len(r) > 80 {
			return string(r[:77]) + "..."
		}
	}
	return s
}

// checkCalls is check_tool_calls_valid; it returns why the calls are invalid
// ("" when valid). Python exceptions there (unhashable names, non-iterable
// arguments) count as invalid, as the original catches them.
func checkCalls(calls []call, tools []tool) string {
	for _, c := range calls {
		var t *tool
		if hashable(c.name) {
			for k := range tools {
				if keyEqual(tools[k].name, c.name) {
					t = &tools[k]
					break
				}
			}
		}
		if t == nil {
			return fmt.Sprintf("unknown tool %s", pyjson.Repr(c.name))
		}
		bad := ""
		ok := iterate(c.args, func(param any) bool {
			if !paramIn(param, t.params) {
				bad = pyjson.Repr(param)
				return false
			}
			return true
		})
		if !ok {
			if bad == "" {
				return fmt.Sprintf("tool %s: arguments is a %s", pyjson.Repr(c.name), typeName(c.args))
			}
			return fmt.Sprintf("tool %s: unknown argument %s", pyjson.Repr(c.name), bad)
		}
	}
	return ""
}

// iterate is Python's `for x in v`: dict keys, list items, string characters.
// It returns false if v is not iterable or fn stopped.
func iterate(v any, fn func(any) bool) bool {
	switch x := v.(type) {
	case *pyjson.Object:
		for _, m := range x.Members {
			if !fn(m.Key) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !fn(e) {
				return false
			}
		}
	case string:
		for _, r := range x {
			if !fn(string(r)) {
				return false
			}
		}
	default:
		return false
	}
	return true
}

// pyLen is Python's len() of an iterable argument value.
func pyLen(v any) int {
	switch x := v.(type) {
	case *pyjson.Object:
		return x.Len()
	case []any:
		return len(x)
	case string:
		return utf8.RuneCountInString(x)
	}
	return 0
}

// paramIn is `param in parameters` (a TypeError counts as false).
func paramIn(param, params any) bool {
	switch p := params.(type) {
	case keySet:
		k, ok := param.(string)
		if !ok {
			return false
		}
		for _, x := range p {
			if x == k {
				return true
			}
		}
		return false
	case []any:
		return containsEqual(p, param)
	case string:
		k, ok := param.(string)
		return ok && strings.Contains(p, k)
	}
	return false
}

func containsEqual(list []any, v any) bool {
	for _, e := range list {
		if pyEqual(e, v) {
			return true
		}
	}
	return false
}

// hashable: JSON values usable as dict keys (not lists or dicts).
func hashable(v any) bool {
	switch v.(type) {
	case []any, *pyjson.Object:
		return false
	}
	return true
}

// keyEqual is dict-key equality of two hashable values (== for these).
func keyEqual(a, b any) bool {
	if x, ok := a.(string); ok {
		y, ok := b.(string)
		return ok && x == y
	}
	return pyEqual(a, b)
}

// pyEqual is Python == with fast paths for the common scalar cases.
func pyEqual(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return intEqFloat(x, y)
		case bool:
			return x == b2i(y)
		}
	case float64:
		switch y := b.(type) {
		case float64:
			return x == y
		case int64:
			return intEqFloat(y, x)
		case bool:
			return x == float64(b2i(y))
		}
	case bool:
		switch y := b.(type) {
		case bool:
			return x == y
		case int64:
			return b2i(x) == y
		case float64:
			return float64(b2i(x)) == y
		}
	}
	return pyjson.Equal(a, b)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// intEqFloat compares exactly, as Python compares int and float.
func intEqFloat(i int64, f float64) bool {
	if f != math.Trunc(f) || math.IsInf(f, 0) {
		return false
	}
	if f >= -(1<<53) && f <= 1<<53 {
		return float64(i) == f && int64(f) == i
	}
	bf := new(big.Float).SetInt64(i)
	return bf.Cmp(big.NewFloat(f)) == 0
}

func isNumberOrBool(v any) bool {
	switch v.(type) {
	case bool, int64, float64, *big.Int:
		return true
	}
	return false
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case *pyjson.Object:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// textScore is get_rouge_score(p, gt); isInt when the original returns an
// int (identical strings: 1, a blank side: 0).
func (s *Scorer) textScore(p, gt string) (float64, bool) {
	if p == gt {
		return 1, true
	}
	if pyStrip(gt) == "" || pyStrip(p) == "" {
		return 0, true
	}
	return s.rouge.f1(gt, p), false
}

// callsScore is compute_function_calling_reward (Sim): greedy matching of
// each predicted call to the most similar unmatched label call of the same
// name (first maximum wins). The original's per-name buckets are the label
// calls of an equal name in label order; used marks the popped ones.
func (s *Scorer) callsScore(gt, pred []call) (float64, error) {
	for _, c := range gt {
		if !hashable(c.name) {
			return 0, inputErr("label", "tool call name is a %s (unhashable)", typeName(c.name))
		}
	}
	var usedBuf [16]bool
	used := usedBuf[:0]
	if len(gt) > len(usedBuf) {
		used = make([]bool, len(gt))
	} else {
		used = usedBuf[:len(gt)]
	}
	total := 0.0
	for _, p := range pred {
		best, bestIdx := -1.0, -1
		for k := range gt {
			if used[k] || !keyEqual(gt[k].name, p.name) {
				continue
			}
			sim, err := s.argsScore(gt[k].args, p.args)
			if err != nil {
				return 0, err
			}
			if sim > best {
				best, bestIdx = sim, k
			}
		}
		if bestIdx < 0 {
			continue
		}
		used[bestIdx] = true
		total += best
	}
	u := len(pred)
	for _, x := range used {
		if !x {
			u++
		}
	}
	if u == 0 {
		return 1, nil
	}
	return total / float64(u), nil
}

// argsScore is get_scores(gt_arguments, p_arguments).
func (s *Scorer) argsScore(gtArgs, pArgs any) (float64, error) {
	score := 0.0
	switch g := gtArgs.(type) {
	case *pyjson.Object:
		if po, ok := pArgs.(*pyjson.Object); ok {
			// the usual case: both dicts; JSON keys are unique, so each
			// shared key pops one label key
			shared := 0
			for _, pm := range po.Members {
				if gv, ok := g.Get(pm.Key); ok {
					shared++
					score += s.valueScore(pm.Value, gv)
				}
			}
			u := po.Len() + g.Len() - shared
			if u == 0 {
				return 1, nil
			}
			return score / float64(u), nil
		}
		// gt_call.copy(), popping the keys the prediction shares
		remaining := g.Len()
		var popped []bool
		var err error
		iterate(pArgs, func(key any) bool {
			k, isStr := key.(string)
			if !isStr {
				if !hashable(key) {
					err = inputErr("arguments", "predicted argument key %s is unhashable", pyjson.Repr(key))
					return false
				}
				return true // a non-string never equals a JSON key
			}
			idx := -1
			for m := range g.Members {
				if g.Members[m].Key == k && (popped == nil || !popped[m]) {
					idx = m
					break
				}
			}
			if idx < 0 {
				return true
			}
			po, isObj := pArgs.(*pyjson.Object)
			if !isObj {
				err = inputErr("arguments", "predicted arguments are a %s sharing the label key %q", typeName(pArgs), k)
				return false
			}
			if popped == nil {
				popped = make([]bool, g.Len())
			}
			popped[idx] = true
			remaining--
			pv, _ := po.Get(k)
			score += s.valueScore(pv, g.Members[idx].Value)
			return true
		})
		if err != nil {
			return 0, err
		}
		u := pyLen(pArgs) + remaining
		if u == 0 {
			return 1, nil
		}
		return score / float64(u), nil
	case []any:
		return s.listArgsScore(g, pArgs)
	}
	return 0, inputErr("arguments", "label arguments are a %s (no .copy())", typeName(gtArgs))
}

// listArgsScore is get_scores when the label's arguments are a JSON list:
// `key in list` by equality, list.pop(key) by index, p_args[key].
func (s *Scorer) listArgsScore(g []any, pArgs any) (float64, error) {
	rest := append([]any(nil), g...)
	score := 0.0
	var err error
	iterate(pArgs, func(key any) bool {
		if !containsEqual(rest, key) {
			return true
		}
		var idx int64
		switch k := key.(type) {
		case int64:
			idx = k
		case bool:
			idx = b2i(k)
		default:
			err = inputErr("arguments", "list.pop(%s): index is a %s", pyjson.Repr(key), typeName(key))
			return false
		}
		i := idx
		if i < 0 {
			i += int64(len(rest))
		}
		if i < 0 || i >= int64(len(rest)) {
			err = inputErr("arguments", "list.pop(%d): index out of range", idx)
			return false
		}
		gv := rest[i]
		rest = append(rest[:i:i], rest[i+1:]...)
		pl, isList := pArgs.([]any)
		if !isList {
			err = inputErr("arguments", "predicted arguments are a %s indexed by %d", typeName(pArgs), idx)
			return false
		}
		j := idx
		if j < 0 {
			j += int64(len(pl))
		}
		if j < 0 || j >= int64(len(pl)) {
			err = inputErr("arguments", "predicted arguments index %d out of range", idx)
			return false
		}
		score += s.valueScore(pl[j], gv)
		return true
	})
	if err != nil {
		return 0, err
	}
	u := pyLen(pArgs) + len(rest)
	if u == 0 {
		return 1, nil
	}
	return score / float64(u), nil
}

// valueScore compares one argument value: strings by ROUGE-L, numbers and
// booleans by ==, anything else by str().
func (s *Scorer) valueScore(p, gt any) float64 {
	ps, pIsStr := p.(string)
	gs, gIsStr := gt.(string)
	switch {
	case pIsStr && gIsStr:
		v, _ := s.textScore(ps, gs)
		return v
	case isNumberOrBool(p) && isNumberOrBool(gt):
		if pyEqual(p, gt) {
			return 1
		}
		return 0
	}
	if pyjson.Str(p) == pyjson.Str(gt) {
		return 1
	}
	return 0
}

// pyStrip is Python's str.strip() (the one home of it is toolcall.Strip).
func pyStrip(s string) string { return toolcall.Strip(s) }
