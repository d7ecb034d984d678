package jinja

import (
	"errors"
	"testing"
)

const fuzzVars = `{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"},
 {"role": "assistant", "content": null, "tool_calls": [{"name": "f", "arguments": {"a": 1.5, "b": [true, null]}}]},
 {"role": "tool", "content": "{\"ok\": 1}"}],
 "tools": [{"name": "f", "description": "d", "parameters": {"type": "object", "properties": {"a": {"type": "number"}}}}],
 "add_generation_prompt": true, "enable_thinking": false, "bos_token": "<s>", "n": null, "i": 7, "big": 123456789012345678901234567890}`

// FuzzRender checks that Parse and Render never panic and that every error
// they return is an *Error carrying the template name and a line number.
func FuzzRender(f *testing.F) {
	for _, c := range semanticsCases {
		f.Add(c.src)
	}
	for _, c := range whitespaceCases {
		f.Add(c.src)
	}
	vars := mustVars(f, fuzzVars)
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := Parse("fuzz.jinja", src)
		if err != nil {
			checkErr(t, src, err)
			return
		}
		if _, err := tpl.Render(vars); err != nil {
			checkErr(t, src, err)
		}
	})
}

func checkErr(t *testing.T, src string, err error) {
	var je *Error
	if !errors.As(err, &je) || je.Name != "fuzz.jinja" || je.Line < 1 {
		t.Fatalf("%q: error without template name and line: %v", src, err)
	}
}
