package jinja

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/star-go/star/internal/pyjson"
)

func mustVars(t testing.TB, js string) map[string]any {
	t.Helper()
	v, err := pyjson.UnmarshalString(js)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for _, m := range v.(*pyjson.Object).Members {
		out[m.Key] = m.Value
	}
	return out
}

func render(t testing.TB, src string, vars map[string]any) (string, error) {
	t.Helper()
	tpl, err := Parse("t.jinja", src)
	if err != nil {
		return "", err
	}
	return tpl.Render(vars)
}

func TestSemantics(t *testing.T) {
	vars := mustVars(t, semanticsVars)
	for _, c := range semanticsCases {
		got, err := render(t, c.src, vars)
		if c.err != "" {
			var je *Error
			if err == nil {
				t.Errorf("%s\n  want error %q, got output %q", c.src, c.err, got)
			} else if !errors.As(err, &je) || je.Line != 1 {
				t.Errorf("%s\n  error without line 1: %v", c.src, err)
			} else if !strings.Contains(err.Error(), strings.TrimSuffix(c.err, ".")) {
				t.Errorf("%s\n  error %q does not contain %q", c.src, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s\n  unexpected error: %v", c.src, err)
		} else if got != c.want {
			t.Errorf("%s\n   got %q\n  want %q", c.src, got, c.want)
		}
	}
}

func TestWhitespaceControl(t *testing.T) {
	for _, c := range whitespaceCases {
		got, err := render(t, c.src, nil)
		if err != nil {
			t.Errorf("%q: %v", c.src, err)
		} else if got != c.want {
			t.Errorf("%q\n   got %q\n  want %q", c.src, got, c.want)
		}
	}
}

// HF's AssistantTracker {% generation %} block renders its body unchanged.
func TestGenerationTag(t *testing.T) {
	got, err := render(t, "x{%- generation -%} y {%- endgeneration -%}z{% generation %}\n!{% endgeneration %}", nil)
	if err != nil || got != "xyz!" {
		t.Errorf("got %q, %v", got, err)
	}
}

// Error lines and messages follow Python jinja2 for the same sources.
func TestErrorLines(t *testing.T) {
	cases := []struct {
		src  string
		line int
		msg  string
	}{
		{"a\nb\n{{ x | foo }}", 3, `unknown filter "foo"`},
		{"a\n{% if x %}\nb\n", 3, "missing '{% elif %}' or '{% else %}' or '{% endif %}'"},
		{"a\n{% for x in y %}\n{% if x %}\nb\n{% endfor %}", 5, "unexpected 'endfor'"},
		{"line\n{{ 1 +* 2 }}", 2, "unexpected '*'"},
		{"{{ x is nosuchtest }}", 1, `unknown test "nosuchtest"`},
		{"\n\n{% nosuchtag %}", 3, "unknown or unsupported tag 'nosuchtag'"},
		{"{% endif %}", 1, "unexpected 'endif'"},
		{"x\n{{ 'unterminated }}", 2, "unterminated string"},
		{"x\n{{ y\n", 2, "missing '}}'"},
		{"x\n{# open comment", 2, "missing end of comment"},
		{"\n{% set %}", 2, "expected a name"},
		{"\n\n\n{{ none.x.y }}", 4, "'None' has no attribute 'x'"},
		{"a\n{% for m in [1] %}\n{{ m.content.strip() }}\n{% endfor %}", 3, "'int object' has no attribute 'content'"},
		{"\n{{ raise_exception('bad role') }}", 2, "raise_exception: bad role"},
		{"{% break %}", 1, "'break' outside of a for loop"},
		{"{{ (1, 2 }}", 1, "unexpected '}'"},
		{"{{ [1, 2) }}", 1, "expected ','"},
		{"{% macro m(a=1, b) %}{% endmacro %}", 1, "non-default argument follows default argument"},
		{"{{ f(a=1, 2) }}", 1, "positional argument follows keyword argument"},
		{"\n{% if true %}{% else %}{% else %}{% endif %}", 2, "unexpected 'else'"},
		{"{{ 'a' is string is string }}", 1, "cannot chain multiple tests"},
		{"{% for x in [1] recursive %}{% endfor %}", 1, "recursive for loops are not supported"},
		{"{% include 'x' %}", 1, "unknown or unsupported tag 'include'"},
		{"{{ 1 | tojson(separators=('a', 'b')) }}", 1, "separators"},
		{"{{ '%s' % none }}{{ '%x' % 1 }}", 1, "unsupported format character 'x'"},
		{"\n{{ '{:>4}'.format(1) }}", 2, "not supported"},
		{"{% set ns = namespace() %}{% set x.y = 1 %}", 1, "cannot assign attribute on non-namespace object"},
		{"{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", 1, "takes not more than 1 argument"},
		{"{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", 1, "maximum recursion depth"},
		{"{{ 1 }}\n{{ 2 }}\n{{ [1] * 'a' }}", 3, "unsupported operand"},
		{"\n{{ 'a\\N{DASH}' }}", 2, "escapes in string literals are not supported"},
	}
	for _, c := range cases {
		_, err := render(t, c.src, nil)
		var je *Error
		if !errors.As(err, &je) {
			t.Errorf("%q: want *Error, got %v", c.src, err)
			continue
		}
		if je.Line != c.line || je.Name != "t.jinja" || !strings.Contains(je.Msg, c.msg) {
			t.Errorf("%q: got %q, want line %d with %q", c.src, err, c.line, c.msg)
		}
		if !strings.HasPrefix(err.Error(), "t.jinja:") {
			t.Errorf("%q: error %q does not start with the template name", c.src, err)
		}
	}
}

// TestHFTemplates renders templates in the style of popular HF models
// (testdata/templates/*.jinja) over a few conversations, with and without
// tools and the generation prompt, against golden.jsonl recorded with Python
// jinja2 configured as apply_chat_template.
func TestHFTemplates(t *testing.T) {
	data, err := os.ReadFile("testdata/chat_vars.json")
	if err != nil {
		t.Fatal(err)
	}
	cv, err := pyjson.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	tools, _ := cv.(*pyjson.Object).Get("tools")
	convs, _ := cv.(*pyjson.Object).Get("convs")
	golden, err := os.ReadFile("testdata/templates/golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	parsed := map[string]*Template{}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(golden)), "\n") {
		v, err := pyjson.UnmarshalString(line)
		if err != nil {
			t.Fatal(err)
		}
		g := v.(*pyjson.Object)
		name, _ := g.Get("template")
		tpl := parsed[name.(string)]
		if tpl == nil {
			src, err := os.ReadFile(filepath.Join("testdata/templates", name.(string)))
			if err != nil {
				t.Fatal(err)
			}
			if tpl, err = Parse(name.(string), string(src)); err != nil {
				t.Fatal(err)
			}
			parsed[name.(string)] = tpl
		}
		conv, _ := g.Get("conv")
		msgs, _ := convs.(*pyjson.Object).Get(conv.(string))
		agp, _ := g.Get("add_generation_prompt")
		withTools, _ := g.Get("tools")
		vars := map[string]any{"messages": msgs, "tools": nil, "documents": nil, "add_generation_prompt": agp, "bos_token": "<s>", "eos_token": "</s>"}
		if withTools.(bool) {
			vars["tools"] = tools
		}
		got, err := tpl.Render(vars)
		what := fmt.Sprintf("%s/%s agp=%v tools=%v", name, conv, agp, withTools)
		n++
		if want, ok := g.Get("want"); ok {
			if err != nil {
				t.Errorf("%s: %v", what, err)
			} else if got != want {
				t.Errorf("%s:\n   got %q\n  want %q", what, got, want)
			}
			continue
		}
		wantErr, _ := g.Get("err")
		errType, _ := g.Get("err_type")
		var je *Error
		switch {
		case !errors.As(err, &je) || je.Line < 1:
			t.Errorf("%s: want error %q, got %v (output %q)", what, wantErr, err, got)
		case errType == "RecursionError":
			if !strings.Contains(je.Msg, "maximum recursion depth") {
				t.Errorf("%s: got %v, want a recursion error", what, err)
			}
		case !strings.Contains(je.Msg, wantErr.(string)):
			t.Errorf("%s: error %q does not contain %q", what, je.Msg, wantErr)
		case (errType == "TemplateError") != je.Raised:
			t.Errorf("%s: Raised=%v for %s", what, je.Raised, errType)
		}
	}
	if n != 112 {
		t.Errorf("ran %d golden cases, want 112", n)
	}
}

func TestStrftimeNow(t *testing.T) {
	tpl, err := Parse("t.jinja", `{{ strftime_now("%d %b %Y") }}|{{ strftime_now("%Y-%m-%d %H:%M:%S %A %B %j %I%p %%") }}`)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 7, 5, 15, 4, 9, 0, time.UTC)
	got, err := tpl.WithClock(func() time.Time { return at }).Render(nil)
	if want := "05 Jul 2024|2024-07-05 15:04:09 Friday July 187 03PM %"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
}

// A parsed template is shared by concurrent renders (run with -race).
func TestConcurrent(t *testing.T) {
	tpl, err := Parse("t.jinja", "{% set ns = namespace(n=0) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			xs := []any{int64(g), int64(g), int64(1)}
			for i := 0; i < 200; i++ {
				got, err := tpl.Render(map[string]any{"xs": xs})
				if want := fmt.Sprint(2*g + 1); err != nil || got != want {
					t.Errorf("got %q, %v; want %q", got, err, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestRenderVarsValidation(t *testing.T) {
	tpl, err := Parse("t.jinja", "{{ m }}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Render(map[string]any{"m": map[string]any{"a": 1}}); err == nil {
		t.Error("want an error for an unordered Go map")
	}
	if got, err := tpl.Render(map[string]any{"m": 5}); err != nil || got != "5" {
		t.Errorf("got %q, %v", got, err)
	}
}
