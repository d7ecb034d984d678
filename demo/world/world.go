// Package world is the demo's synthetic tool-calling world: a catalogue of
// tools across several domains, user requests built from templates and
// paraphrases, and their ground truth both as STAR messages records
// (STAR-SPEC §1) and in BFCL's question / possible-answer form, so the same
// checker that scores BFCL scores the demo.
//
// Cases follow BFCL: simple (one tool listed, one call), parallel (one tool,
// several calls), multiple (one call, chosen among several tools),
// parallel_multiple (calls to two tools, among distractors) and irrelevance
// (no listed tool serves the request; the answer is a short reply).
// Generation is deterministic for a seed. The test split is phrased only with
// templates (clauses, modifiers, framings, connectors) that the train and RL
// splits never use.
package world

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/star-go/star/data/message"
	"github.com/star-go/star/eval/bfcl"
	"github.com/star-go/star/internal/pyjson"
)

// Cases, in BFCL's names.
const (
	Simple           = "simple"
	Parallel         = "parallel"
	Multiple         = "multiple"
	ParallelMultiple = "parallel_multiple"
	Irrelevance      = "irrelevance"
)

// Cases lists the cases in report order.
var Cases = []string{Simple, Multiple, Parallel, ParallelMultiple, Irrelevance}

// Splits, in order.
const (
	Train = "train"
	RL    = "rl"
	Test  = "test"
)

// Config sizes the world.
type Config struct {
	Seed            uint64
	Train, RL, Test int // records per split
	// Mix is the share of each case (normalised); nil means DefaultMix.
	Mix map[string]float64
	// Distractors is how many tools beside the needed ones are listed for
	// multiple, parallel_multiple and irrelevance.
	Distractors int
	// MaxParallel is the most calls to one tool in a parallel case (≥ 2).
	MaxParallel int
	// OptionalRate is the chance that a request sets each optional parameter.
	OptionalRate float64
	// Domains, when > 0, keeps only the first Domains domains of the
	// catalogue (at least 2: irrelevance needs another domain): fewer tools
	// make an easier world for smaller models or shorter runs.
	Domains int
	// BFCLTools writes the messages records' tools exactly as BFCL's Qwen
	// prompt shows them (BFCL type names, and gorilla's "Note that the
	// provided function is in Python 3 syntax." after each description), so
	// a model trained on the records sees the same prompt under `star eval
	// bfcl`. Off, the tools are plain JSON Schema.
	BFCLTools bool
	// Values, when > 0, draws every parameter but enums and booleans from
	// that many values (a pool's first Values entries; numbers, dates, times
	// and the like drawn once per parameter), the same in every split: a model trained
	// from scratch in minutes learns a few values per parameter, where it
	// would need far longer to learn to copy any digits or names. The test
	// split still holds out every phrasing.
	Values int
}

// DefaultMix is the case mix: BFCL's non-live categories in roughly the
// proportions a tool-calling model meets them.
var DefaultMix = map[string]float64{Simple: 0.25, Multiple: 0.25, Parallel: 0.15, ParallelMultiple: 0.15, Irrelevance: 0.20}

// Full is the full demo's world.
func Full(seed uint64) Config {
	return Config{Seed: seed, Train: 2000, RL: 400, Test: 400, Distractors: 1, MaxParallel: 3, OptionalRate: 0.3}
}

// Quick is the small world of `star demo --quick`.
func Quick(seed uint64) Config {
	c := Full(seed)
	c.Train, c.RL, c.Test = 300, 64, 100
	return c
}

// Arg is one argument of a ground-truth call.
type Arg struct {
	Name  string
	Value any // pyjson value: string, int64, float64, bool or []any of strings
}

// Call is one ground-truth call.
type Call struct {
	Tool *Tool
	Args []Arg
}

// Example is one request and its ground truth.
type Example struct {
	ID        string // test ids equal their BFCL ids ("simple_3")
	Split     string
	Case      string
	Tools     []*Tool // listed tools, in prompt order
	Query     string
	Calls     []Call // nil for irrelevance
	Reply     string // irrelevance only
	Reasoning string
	// Templates are the phrasings used (clauses, modifiers, framing,
	// connectors); the test split shares none with train and RL.
	Templates []string

	bfclTools bool
}

// World is the generated data.
type World struct {
	Config Config
	Tools  []*Tool // the catalogue in use (all of it unless Config.Domains)
	Train  []*Example
	RL     []*Example
	Test   []*Example
}

// Splits returns the splits by name, in order.
func (w *World) Splits() [][]*Example { return [][]*Example{w.Train, w.RL, w.Test} }

// Generate builds the world for c.
func Generate(c Config) (*World, error) {
	if err := checkCatalog(); err != nil {
		return nil, err
	}
	if c.Train < 0 || c.RL < 0 || c.Test < 0 {
		return nil, fmt.Errorf("world: negative split size")
	}
	if c.Values != 0 && c.Values < 4 {
		return nil, fmt.Errorf("world: %d values per parameter: want 0 (unlimited) or at least 4", c.Values)
	}
	if c.MaxParallel < 2 {
		c.MaxParallel = 2
	}
	if c.Distractors < 1 {
		c.Distractors = 1
	}
	mix := c.Mix
	if mix == nil {
		mix = DefaultMix
	}
	total := 0.0
	for k, v := range mix {
		if !slices.Contains(Cases, k) {
			return nil, fmt.Errorf("world: unknown case %q in the mix (want one of %v)", k, Cases)
		}
		if v < 0 {
			return nil, fmt.Errorf("world: negative share %g for %s", v, k)
		}
		total += v
	}
	if total == 0 {
		return nil, fmt.Errorf("world: the case mix is empty")
	}
	tools, err := Tools(c.Domains)
	if err != nil {
		return nil, err
	}
	w := &World{Config: c, Tools: tools}
	g := &gen{cfg: c, r: rand.New(rand.NewPCG(c.Seed, 0x5eed5eed)), seen: map[string]bool{}, fixed: map[string][]value{}, tools: tools}
	for _, s := range []struct {
		name string
		n    int
		dst  *[]*Example
	}{{Train, c.Train, &w.Train}, {RL, c.RL, &w.RL}, {Test, c.Test, &w.Test}} {
		cases := caseList(s.n, mix)
		g.r.Shuffle(len(cases), func(i, j int) { cases[i], cases[j] = cases[j], cases[i] })
		counter := map[string]int{}
		for _, cs := range cases {
			ex, err := g.example(s.name, cs)
			if err != nil {
				return nil, err
			}
			ex.ID = fmt.Sprintf("%s_%d", cs, counter[cs])
			if s.name != Test {
				ex.ID = s.name + "_" + ex.ID
			}
			counter[cs]++
			*s.dst = append(*s.dst, ex)
		}
	}
	return w, nil
}

// caseList returns n case names in the mix's proportions (largest remainders).
func caseList(n int, mix map[string]float64) []string {
	total := 0.0
	for _, c := range Cases {
		total += mix[c]
	}
	counts := make([]int, len(Cases))
	rem := make([]float64, len(Cases))
	sum := 0
	for i, c := range Cases {
		x := float64(n) * mix[c] / total
		counts[i] = int(x)
		rem[i] = x - float64(counts[i])
		sum += counts[i]
	}
	for ; sum < n; sum++ {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		counts[best]++
		rem[best] = -1
	}
	var out []string
	for i, c := range Cases {
		for range counts[i] {
			out = append(out, c)
		}
	}
	return out
}

type gen struct {
	cfg   Config
	tools []*Tool
	r     *rand.Rand
	seen  map[string]bool    // queries already generated, across splits
	fixed map[string][]value // Config.Values: each parameter's or pool's values
}

// phrases returns the training or the test-only variants.
func phrases(test bool, train, held []string) []string {
	if test {
		return held
	}
	return train
}

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// example draws requests until one is new (same query text never repeats).
func (g *gen) example(split, cs string) (*Example, error) {
	for range 200 {
		ex := g.draw(split == Test, cs)
		if g.seen[ex.Query] {
			continue
		}
		g.seen[ex.Query] = true
		ex.Split = split
		ex.bfclTools = g.cfg.BFCLTools
		return ex, nil
	}
	return nil, fmt.Errorf("world: could not draw a new %s request for %s after 200 tries (the split is too large for the templates)", cs, split)
}

func (g *gen) draw(test bool, cs string) *Example {
	ex := &Example{Case: cs}
	switch cs {
	case Simple, Multiple:
		t := g.pickTool(nil)
		clause, call := g.clause(ex, test, t)
		ex.Calls = []Call{call}
		ex.Query = g.frame(ex, test, clause)
		ex.Tools = []*Tool{t}
		if cs == Multiple {
			ex.Tools = g.withDistractors(ex.Tools, g.cfg.Distractors, nil)
		}
		ex.Reasoning = fmt.Sprintf("The user wants to %s. I will call %s.", t.Purpose, t.Name)
	case Parallel:
		t := g.pickTool(nil)
		k := 2 + g.r.IntN(g.cfg.MaxParallel-1)
		clause, calls := g.repeated(ex, test, t, k)
		ex.Calls = calls
		ex.Query = g.frame(ex, test, clause)
		ex.Tools = []*Tool{t}
		ex.Reasoning = fmt.Sprintf("The user wants to %s %d times. I will call %s %d times.", t.Purpose, len(calls), t.Name, len(calls))
	case ParallelMultiple:
		t1 := g.pickTool(nil)
		t2 := g.pickTool(func(t *Tool) bool { return t != t1 })
		a, calls := g.clause(ex, test, t1)
		ex.Calls = []Call{calls}
		n2 := 1
		var b string
		if g.r.IntN(3) == 0 && firstKey(t2) != nil {
			n2 = 2
			var cs2 []Call
			b, cs2 = g.repeated(ex, test, t2, 2)
			ex.Calls = append(ex.Calls, cs2...)
		} else {
			var c2 Call
			b, c2 = g.clause(ex, test, t2)
			ex.Calls = append(ex.Calls, c2)
		}
		ex.Query = g.frame(ex, test, g.connect(ex, test, a, b))
		ex.Tools = g.withDistractors([]*Tool{t1, t2}, g.cfg.Distractors-1, nil)
		second := t2.Name
		if n2 == 2 {
			second += " twice"
		}
		ex.Reasoning = fmt.Sprintf("The user wants to %s and to %s. I will call %s and %s.", t1.Purpose, t2.Purpose, t1.Name, second)
	case Irrelevance:
		if g.r.IntN(10) < 3 {
			q := g.pick(phrases(test, chitchat, testChitchat))
			ex.Templates = append(ex.Templates, "chitchat:"+q)
			ex.Query = q
			ex.Tools = g.withDistractors(nil, g.cfg.Distractors, nil)
			ex.Reply = "Sorry, none of the available tools can help with that."
			ex.Reasoning = "No available tool fits this request."
			break
		}
		t := g.pickTool(nil)
		clause, _ := g.clause(ex, test, t)
		ex.Query = g.frame(ex, test, clause)
		// Half the time a tool of the same domain is listed: related, but
		// not the one asked for (get_air_quality for a weather request).
		var near []*Tool
		if g.r.IntN(2) == 0 {
			near = g.withDistractors([]*Tool{t}, 1, nil)
			near = slices.DeleteFunc(near, func(u *Tool) bool { return u == t || u.Domain != t.Domain })
		}
		ex.Tools = g.withDistractors(near, g.cfg.Distractors-len(near), func(u *Tool) bool { return u.Domain != t.Domain })
		ex.Reply = fmt.Sprintf("Sorry, none of the available tools can %s.", t.Purpose)
		ex.Reasoning = fmt.Sprintf("The user wants to %s, but no available tool can do that.", t.Purpose)
	}
	return ex
}

// pickTool draws a tool that ok accepts (any when ok is nil), or nil if none does.
func (g *gen) pickTool(ok func(*Tool) bool) *Tool {
	if ok == nil {
		return g.tools[g.r.IntN(len(g.tools))]
	}
	var cands []*Tool
	for _, t := range g.tools {
		if ok(t) {
			cands = append(cands, t)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[g.r.IntN(len(cands))]
}

// withDistractors adds n tools not already listed (one from the same domain
// as the first listed tool when there is one, the rest from anywhere that
// allow permits) and shuffles the list.
func (g *gen) withDistractors(tools []*Tool, n int, allow func(*Tool) bool) []*Tool {
	out := slices.Clone(tools)
	avail := func(t *Tool) bool { return !slices.Contains(out, t) && (allow == nil || allow(t)) }
	if len(tools) > 0 && n > 0 {
		var same []*Tool
		for _, t := range g.tools {
			if t.Domain == tools[0].Domain && avail(t) {
				same = append(same, t)
			}
		}
		if len(same) > 0 {
			out = append(out, same[g.r.IntN(len(same))])
			n--
		}
	}
	for ; n > 0; n-- {
		t := g.pickTool(avail)
		if t == nil {
			break // a small catalogue (Config.Domains) has run out
		}
		out = append(out, t)
	}
	g.r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// frame wraps a clause into a request.
func (g *gen) frame(ex *Example, test bool, clause string) string {
	f := g.pick(phrases(test, framings, testFramings))
	ex.Templates = append(ex.Templates, "frame:"+f)
	return strings.NewReplacer("{c}", clause, "{C}", capitalize(clause)).Replace(f)
}

func (g *gen) connect(ex *Example, test bool, a, b string) string {
	c := g.pick(phrases(test, connectors, testConnectors))
	ex.Templates = append(ex.Templates, "connect:"+c)
	return strings.NewReplacer("{a}", a, "{b}", b).Replace(c)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// clause phrases one call to t with fresh values.
func (g *gen) clause(ex *Example, test bool, t *Tool) (string, Call) {
	vals := g.values(t)
	return g.phrase(ex, test, t, vals, nil)
}

// phrase writes the clause for vals (param name → value and surface);
// fixed, when set, is the template to use.
func (g *gen) phrase(ex *Example, test bool, t *Tool, vals map[string]value, fixed *string) (string, Call) {
	tmpl := ""
	if fixed != nil {
		tmpl = *fixed
	} else {
		tmpl = g.pick(phrases(test, t.Say, t.TestSay))
		ex.Templates = append(ex.Templates, t.Name+":"+tmpl)
	}
	var sb strings.Builder
	sb.WriteString(tmpl)
	call := Call{Tool: t}
	for _, p := range t.Params {
		v, ok := vals[p.Name]
		if !ok {
			continue
		}
		call.Args = append(call.Args, Arg{Name: p.Name, Value: v.v})
		if p.Required {
			continue
		}
		mod := g.pick(phrases(test, p.Mods, p.TestMods))
		ex.Templates = append(ex.Templates, t.Name+"."+p.Name+":"+mod)
		sb.WriteString(" " + mod)
	}
	text := sb.String()
	for _, p := range t.Params {
		if v, ok := vals[p.Name]; ok {
			text = strings.ReplaceAll(text, "{"+p.Name+"}", v.say)
		}
	}
	return text, call
}

// repeated phrases k calls to t: either "<clause>, and do the same for X and
// Y" (only the first parameter changes) or k clauses joined by connectors.
func (g *gen) repeated(ex *Example, test bool, t *Tool, k int) (string, []Call) {
	key := firstKey(t)
	if key != nil && key.Kind == Enum {
		k = min(k, len(key.Enum))
	}
	if key != nil && g.r.IntN(5) < 3 {
		base := g.values(t)
		text, call := g.phrase(ex, test, t, base, nil)
		calls := []Call{call}
		used := []value{base[key.Name]}
		var says []string
		for len(calls) < k {
			v := g.value(key, t)
			if slices.ContainsFunc(used, func(u value) bool { return pyjson.Equal(u.v, v.v) }) || !distinct(t, key, v, base) {
				continue
			}
			used = append(used, v)
			says = append(says, v.say)
			vals := maps(base)
			vals[key.Name] = v
			c := Call{Tool: t}
			for _, a := range call.Args {
				if a.Name == key.Name {
					a.Value = v.v
				}
				c.Args = append(c.Args, a)
			}
			calls = append(calls, c)
		}
		tmpl := g.pick(phrases(test, same, testSame))
		ex.Templates = append(ex.Templates, "same:"+tmpl)
		return strings.NewReplacer("{a}", text, "{v}", joinAnd(says)).Replace(tmpl), calls
	}
	text, call := g.clause(ex, test, t)
	calls := []Call{call}
	for len(calls) < k {
		b, c := g.clause(ex, test, t)
		if slices.ContainsFunc(calls, func(x Call) bool { return sameArgs(x, c) }) {
			continue
		}
		text = g.connect(ex, test, text, b)
		calls = append(calls, c)
	}
	return text, calls
}

// firstKey is the first required parameter that can vary alone in a
// "do the same for" request (not a list or a flag), or nil.
func firstKey(t *Tool) *Param {
	for i := range t.Params {
		p := &t.Params[i]
		if p.Required {
			if p.Kind == Array || p.Kind == Boolean {
				return nil
			}
			return p
		}
	}
	return nil
}

func sameArgs(a, b Call) bool {
	if len(a.Args) != len(b.Args) {
		return false
	}
	for i := range a.Args {
		if a.Args[i].Name != b.Args[i].Name || !pyjson.Equal(a.Args[i].Value, b.Args[i].Value) {
			return false
		}
	}
	return true
}

func maps(m map[string]value) map[string]value {
	out := make(map[string]value, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// value is a parameter value and how the user writes it.
type value struct {
	v   any
	say string
}

// values draws every required parameter and, with OptionalRate, each optional one.
func (g *gen) values(t *Tool) map[string]value {
	vals := map[string]value{}
	for i := range t.Params {
		p := &t.Params[i]
		if !p.Required && g.r.Float64() >= g.cfg.OptionalRate {
			continue
		}
		for {
			v := g.value(p, t)
			if distinct(t, p, v, vals) {
				vals[p.Name] = v
				break
			}
		}
	}
	return vals
}

// distinct keeps two parameters of one tool drawn from the same pool (origin
// and destination, from and to units) apart, and unit conversions within one
// dimension.
func distinct(t *Tool, p *Param, v value, vals map[string]value) bool {
	for _, q := range t.Params {
		u, ok := vals[q.Name]
		if !ok || q.Name == p.Name {
			continue
		}
		if (q.Pool != "" && q.Pool == p.Pool) || (q.Kind == Enum && slices.Equal(q.Enum, p.Enum)) {
			if pyjson.Equal(u.v, v.v) {
				return false
			}
			if t.Name == "convert_units" && dimension(u.v.(string)) != dimension(v.v.(string)) {
				return false
			}
		}
	}
	return true
}

func dimension(unit string) string {
	if unit == "kg" || unit == "pounds" {
		return "mass"
	}
	return "length"
}

func (g *gen) value(p *Param, t *Tool) value {
	if n := g.cfg.Values; n > 0 && (p.Kind == Integer || p.Kind == Number) {
		return g.fixedValue(t.Name+"."+p.Name, func() value { return g.drawValue(p, t) })
	}
	return g.drawValue(p, t)
}

// fixedValue picks one of key's Config.Values values, drawing them with
// draw the first time (distinct ones, as far as draw has them).
func (g *gen) fixedValue(key string, draw func() value) value {
	vs, ok := g.fixed[key]
	if !ok {
		for try := 0; len(vs) < g.cfg.Values && try < 50*g.cfg.Values; try++ {
			v := draw()
			if !slices.ContainsFunc(vs, func(u value) bool { return pyjson.Equal(u.v, v.v) }) {
				vs = append(vs, v)
			}
		}
		g.fixed[key] = vs
	}
	return vs[g.r.IntN(len(vs))]
}

func (g *gen) drawValue(p *Param, t *Tool) value {
	switch p.Kind {
	case String:
		s := g.poolItem(p.Pool)
		return value{s, s}
	case Enum:
		e := p.Enum[g.r.IntN(len(p.Enum))]
		says := append([]string{e}, p.Say[e]...)
		return value{e, says[g.r.IntN(len(says))]}
	case Integer:
		n := int64(p.Min + g.r.IntN(p.Max-p.Min+1))
		return value{n, strconv.FormatInt(n, 10)}
	case Number:
		// One decimal, never .0: the text and Python's repr of the float agree.
		x := float64(p.Min+g.r.IntN(p.Max-p.Min+1)) + float64(1+g.r.IntN(9))/10
		return value{x, strconv.FormatFloat(x, 'f', -1, 64)}
	case Boolean:
		return value{!p.Default.(bool), ""}
	case Array:
		k := 2 + g.r.IntN(2)
		var items []any
		var says []string
		for len(items) < k {
			s := g.poolItem(p.Pool)
			if slices.Contains(says, s) {
				continue
			}
			items = append(items, s)
			says = append(says, s)
		}
		return value{items, joinAnd(says)}
	}
	panic("world: unknown parameter kind " + p.Kind + " in " + t.Name)
}

func joinAnd(xs []string) string {
	if len(xs) == 1 {
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

const letters = "ABCDEFGHJKLMNPRSTUVWXYZ"

func (g *gen) poolItem(pool string) string {
	if n := g.cfg.Values; n > 0 {
		if list := pools[pool]; len(list) > 0 {
			return list[g.r.IntN(min(n, len(list)))]
		}
		return g.fixedValue("pool "+pool, func() value { s := g.drawItem(pool); return value{s, s} }).say
	}
	return g.drawItem(pool)
}

func (g *gen) drawItem(pool string) string {
	switch pool {
	case "date":
		return fmt.Sprintf("%d-%02d-%02d", 2025+g.r.IntN(2), 1+g.r.IntN(12), 1+g.r.IntN(28))
	case "time":
		return fmt.Sprintf("%02d:%02d", 7+g.r.IntN(15), 15*g.r.IntN(4))
	case "tracking":
		return fmt.Sprintf("%c%c%06d", letters[g.r.IntN(len(letters))], letters[g.r.IntN(len(letters))], g.r.IntN(1000000))
	case "email":
		return strings.ToLower(g.pick(pools["person"])) + "@example.com"
	}
	return g.pick(pools[pool])
}

// Lexicon lists, sorted and once each, the words of every value a call of
// w's tools can copy from a request: the value pools (e-mail addresses as
// their lower-case names) and the enums.
func (w *World) Lexicon() []string {
	var words []string
	add := func(s string) {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if !slices.Contains(words, f) {
				words = append(words, f)
			}
		}
	}
	for _, t := range w.Tools {
		for _, p := range t.Params {
			for _, e := range p.Enum {
				add(e)
			}
			pool := p.Pool
			if pool == "email" {
				pool = "person"
				add("example.com")
			}
			for _, v := range pools[pool] {
				if p.Pool == "email" {
					v = strings.ToLower(v)
				}
				add(v)
			}
		}
	}
	slices.Sort(words)
	return words
}

// Tools returns the tools of the first n domains of the catalogue (all for n = 0).
func Tools(n int) ([]*Tool, error) {
	var domains []string
	for _, t := range Catalog {
		if !slices.Contains(domains, t.Domain) {
			domains = append(domains, t.Domain)
		}
	}
	if n == 0 {
		n = len(domains)
	}
	if n < 2 || n > len(domains) {
		return nil, fmt.Errorf("world: %d domains: want 2 to %d", n, len(domains))
	}
	var out []*Tool
	for _, t := range Catalog {
		if slices.Index(domains, t.Domain) < n {
			out = append(out, t)
		}
	}
	return out, nil
}

// disjoint fails when a test-only phrasing is also a training one.
func disjoint(what string, train, test []string) error {
	for _, x := range test {
		if slices.Contains(train, x) {
			return fmt.Errorf("world: %s: %q is both a training and a test phrasing", what, x)
		}
	}
	return nil
}

// checkCatalog verifies the catalogue's own rules once: unique names, every
// clause names every required parameter and no optional one, every modifier
// names its parameter (booleans: none), pools exist.
func checkCatalog() error {
	for _, l := range [][3]any{{"framings", framings, testFramings}, {"connectors", connectors, testConnectors},
		{"same", same, testSame}, {"chitchat", chitchat, testChitchat}} {
		if err := disjoint(l[0].(string), l[1].([]string), l[2].([]string)); err != nil {
			return err
		}
	}
	names := map[string]bool{}
	for _, t := range Catalog {
		if names[t.Name] || names[t.Purpose] {
			return fmt.Errorf("world: tool %s: name or purpose used twice", t.Name)
		}
		names[t.Name], names[t.Purpose] = true, true
		if len(t.Say) == 0 || len(t.TestSay) == 0 {
			return fmt.Errorf("world: %s needs training and test clauses", t.Name)
		}
		if err := disjoint(t.Name, t.Say, t.TestSay); err != nil {
			return err
		}
		for _, c := range append(slices.Clone(t.Say), t.TestSay...) {
			for _, p := range t.Params {
				has := strings.Contains(c, "{"+p.Name+"}")
				if has != p.Required {
					return fmt.Errorf("world: %s clause %q: {%s} must appear iff required", t.Name, c, p.Name)
				}
			}
		}
		for _, p := range t.Params {
			if p.Required && p.Default != nil {
				return fmt.Errorf("world: %s.%s: a required parameter has no default", t.Name, p.Name)
			}
			if !p.Required && (len(p.Mods) == 0 || len(p.TestMods) == 0) {
				return fmt.Errorf("world: %s.%s: an optional parameter needs training and test modifiers", t.Name, p.Name)
			}
			if err := disjoint(t.Name+"."+p.Name, p.Mods, p.TestMods); err != nil {
				return err
			}
			if p.Kind == Boolean && p.Default == nil {
				return fmt.Errorf("world: %s.%s: a boolean needs a default", t.Name, p.Name)
			}
			for _, m := range append(slices.Clone(p.Mods), p.TestMods...) {
				if strings.Contains(m, "{"+p.Name+"}") == (p.Kind == Boolean) {
					return fmt.Errorf("world: %s.%s modifier %q", t.Name, p.Name, m)
				}
			}
			if p.Kind == String || p.Kind == Array {
				if _, ok := pools[p.Pool]; !ok {
					return fmt.Errorf("world: %s.%s: unknown pool %q", t.Name, p.Name, p.Pool)
				}
			}
		}
	}
	return nil
}

// JSON forms ----------------------------------------------------------------

// Schema is t as a tool of a messages record: {name, description,
// parameters} with JSON-Schema types (object, string, integer, number,
// boolean, array).
func (t *Tool) Schema() *pyjson.Object { return t.doc(false) }

// BFCLDoc is t as a BFCL function doc: the same with BFCL's type names
// (dict for object, float for number), which its checker reads.
func (t *Tool) BFCLDoc() *pyjson.Object { return t.doc(true) }

func (t *Tool) doc(bfcl bool) *pyjson.Object {
	props := &pyjson.Object{}
	var required []any
	for _, p := range t.Params {
		o := &pyjson.Object{}
		switch p.Kind {
		case Enum:
			o.Set("type", "string")
			o.Set("enum", strs(p.Enum))
		case Number:
			o.Set("type", map[bool]string{false: "number", true: "float"}[bfcl])
		case Array:
			o.Set("type", "array")
			o.Set("items", pyjson.NewObject("type", "string"))
		default:
			o.Set("type", p.Kind)
		}
		if p.Desc != "" {
			o.Set("description", p.Desc)
		}
		if p.Default != nil {
			o.Set("default", p.Default)
		}
		props.Set(p.Name, o)
		if p.Required {
			required = append(required, p.Name)
		}
	}
	params := pyjson.NewObject("type", map[bool]string{false: "object", true: "dict"}[bfcl], "properties", props, "required", required)
	return pyjson.NewObject("name", t.Name, "description", t.Desc, "parameters", params)
}

func strs(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// Object is ex as a messages record: the user request, then the assistant
// turn with a short reasoning and the calls (or the reply).
func (ex *Example) Object() *pyjson.Object {
	tools := make([]any, len(ex.Tools))
	for i, t := range ex.Tools {
		tools[i] = t.Schema()
	}
	if ex.bfclTools {
		// The docs are well-formed (BFCLDoc), so preprocessing cannot fail.
		tools, _ = bfcl.PreprocessFunctions(ex.bfclDocs(), ex.ID)
	}
	asst := pyjson.NewObject("role", "assistant")
	if ex.Calls == nil {
		asst.Set("content", ex.Reply)
	} else {
		asst.Set("content", nil)
		calls := make([]any, len(ex.Calls))
		for i, c := range ex.Calls {
			args := &pyjson.Object{}
			for _, a := range c.Args {
				args.Set(a.Name, a.Value)
			}
			calls[i] = pyjson.NewObject("name", c.Tool.Name, "arguments", args)
		}
		asst.Set("tool_calls", calls)
	}
	asst.Set("reasoning_content", ex.Reasoning)
	return pyjson.NewObject("id", ex.ID,
		"messages", []any{pyjson.NewObject("role", "user", "content", ex.Query), asst},
		"tools", tools)
}

// Record is ex as a validated messages record.
func (ex *Example) Record() (*message.Record, error) {
	r, err := message.Parse(ex.Object())
	if err != nil {
		return nil, fmt.Errorf("world: %s: %w", ex.ID, err)
	}
	return r, nil
}

// BFCLQuestion is ex as a BFCL test entry: {id, question: [[user]], function: [docs]}.
func (ex *Example) BFCLQuestion() *pyjson.Object {
	return pyjson.NewObject("id", ex.ID,
		"question", []any{[]any{pyjson.NewObject("role", "user", "content", ex.Query)}},
		"function", ex.bfclDocs())
}

func (ex *Example) bfclDocs() []any {
	docs := make([]any, len(ex.Tools))
	for i, t := range ex.Tools {
		docs[i] = t.BFCLDoc()
	}
	return docs
}

// BFCLAnswer is ex's BFCL possible answer, {id, ground_truth: [{func:
// {param: [allowed values]}}]}: each given argument allows its value (and ""
// when it equals the default); each optional parameter left out allows ""
// and its default. Irrelevance has none (nil), as in BFCL.
func (ex *Example) BFCLAnswer() *pyjson.Object {
	if ex.Calls == nil {
		return nil
	}
	gt := make([]any, len(ex.Calls))
	for i, c := range ex.Calls {
		params := &pyjson.Object{}
		for _, p := range c.Tool.Params {
			i := slices.IndexFunc(c.Args, func(a Arg) bool { return a.Name == p.Name })
			switch {
			case i >= 0 && p.Default != nil && pyjson.Equal(c.Args[i].Value, p.Default):
				params.Set(p.Name, []any{c.Args[i].Value, ""})
			case i >= 0:
				params.Set(p.Name, []any{c.Args[i].Value})
			case p.Default != nil:
				params.Set(p.Name, []any{"", p.Default})
			default:
				params.Set(p.Name, []any{""})
			}
		}
		gt[i] = pyjson.NewObject(c.Tool.Name, params)
	}
	return pyjson.NewObject("id", ex.ID, "ground_truth", gt)
}
