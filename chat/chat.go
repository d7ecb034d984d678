// Package chat renders a model's chat template exactly as Hugging Face's
// tokenizer.apply_chat_template(messages, tools=tools, tokenize=False,
// add_generation_prompt=..., **kwargs) does (STAR-SPEC §4), using the Jinja2
// engine in chat/jinja.
package chat

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/star-go/star/chat/jinja"
	"github.com/star-go/star/internal/pyjson"
)

// Template is a model's chat template (or HF's named set of templates) with
// the special tokens from tokenizer_config.json. It is immutable and safe for
// concurrent use.
type Template struct {
	def     *jinja.Template            // the template used without tools (HF "default")
	toolUse *jinja.Template            // HF "tool_use" template, when the set has one
	special map[string]any             // bos_token, eos_token, ... as HF's special_tokens_map
	named   map[string]*jinja.Template // all named templates (nil for a single template)
}

// Options are apply_chat_template's keyword arguments.
type Options struct {
	AddGenerationPrompt bool
	// EnableThinking, when set, becomes the template variable enable_thinking;
	// nil leaves it undefined (as HF does when the kwarg is not passed).
	EnableThinking *bool
	// Extra are further template variables (HF's **kwargs). Values are pyjson
	// values; they override the special tokens, as in HF.
	Extra map[string]any
}

// specialTokenKeys are HF's SPECIAL_TOKENS_ATTRIBUTES.
var specialTokenKeys = []string{"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "additional_special_tokens"}

// Parse parses a single template source; name is used in error messages.
func Parse(name, src string) (*Template, error) {
	t, err := jinja.Parse(name, src)
	if err != nil {
		return nil, err
	}
	return &Template{def: t, special: map[string]any{}}, nil
}

// Load reads the chat template of the model in dir: chat_template.jinja if
// present, else the chat_template field of tokenizer_config.json (a string,
// or a list of {name, template} where "default" is used, and "tool_use" when
// tools are given). Special tokens (bos_token, eos_token, ...) come from
// tokenizer_config.json when it exists.
func Load(dir string) (*Template, error) {
	var cfg *pyjson.Object
	cfgPath := filepath.Join(dir, "tokenizer_config.json")
	if data, err := os.ReadFile(cfgPath); err == nil {
		v, err := pyjson.Unmarshal(data)
		if err != nil {
			return nil, fmt.Errorf("chat: %s: %w", cfgPath, err)
		}
		o, ok := v.(*pyjson.Object)
		if !ok {
			return nil, fmt.Errorf("chat: %s: not a JSON object", cfgPath)
		}
		cfg = o
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("chat: %w", err)
	}
	special, err := specialTokens(cfg)
	if err != nil {
		return nil, fmt.Errorf("chat: %s: %w", cfgPath, err)
	}

	jinjaPath := filepath.Join(dir, "chat_template.jinja")
	if src, err := os.ReadFile(jinjaPath); err == nil {
		t, err := jinja.Parse("chat_template.jinja", string(src))
		if err != nil {
			return nil, fmt.Errorf("chat: %w", err)
		}
		return &Template{def: t, special: special}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("chat: %w", err)
	}

	if cfg == nil {
		return nil, fmt.Errorf("chat: %s has neither chat_template.jinja nor tokenizer_config.json", dir)
	}
	ct, ok := cfg.Get("chat_template")
	if !ok || ct == nil {
		return nil, fmt.Errorf("chat: %s: no chat_template (and no chat_template.jinja beside it)", cfgPath)
	}
	t := &Template{special: special}
	switch x := ct.(type) {
	case string:
		if t.def, err = jinja.Parse("tokenizer_config.json:chat_template", x); err != nil {
			return nil, fmt.Errorf("chat: %w", err)
		}
	case []any:
		t.named = map[string]*jinja.Template{}
		for i, e := range x {
			o, ok := e.(*pyjson.Object)
			if !ok {
				return nil, fmt.Errorf("chat: %s: chat_template[%d] is not an object", cfgPath, i)
			}
			n, _ := o.Get("name")
			src, _ := o.Get("template")
			ns, ok1 := n.(string)
			ss, ok2 := src.(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("chat: %s: chat_template[%d] needs string name and template", cfgPath, i)
			}
			jt, err := jinja.Parse("tokenizer_config.json:chat_template["+ns+"]", ss)
			if err != nil {
				return nil, fmt.Errorf("chat: %w", err)
			}
			t.named[ns] = jt
		}
		t.def = t.named["default"]
		t.toolUse = t.named["tool_use"]
		if t.def == nil && t.toolUse == nil {
			return nil, fmt.Errorf("chat: %s: chat_template list has neither \"default\" nor \"tool_use\"", cfgPath)
		}
	default:
		return nil, fmt.Errorf("chat: %s: chat_template must be a string or a list", cfgPath)
	}
	return t, nil
}

// specialTokens reads HF's special_tokens_map from tokenizer_config.json:
// each token is a string or an {"content": ...} object; unset ones are left
// out (so the template sees them undefined, as in HF).
func specialTokens(cfg *pyjson.Object) (map[string]any, error) {
	out := map[string]any{}
	if cfg == nil {
		return out, nil
	}
	content := func(v any) (string, bool, error) {
		switch x := v.(type) {
		case nil:
			return "", false, nil
		case string:
			return x, x != "", nil
		case *pyjson.Object:
			c, _ := x.Get("content")
			s, ok := c.(string)
			if !ok {
				return "", false, fmt.Errorf("special token object without string content")
			}
			return s, s != "", nil
		}
		return "", false, fmt.Errorf("special token must be a string or {content: ...}")
	}
	for _, k := range specialTokenKeys {
		v, ok := cfg.Get(k)
		if !ok {
			continue
		}
		if k == "additional_special_tokens" {
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				continue
			}
			toks := make([]any, 0, len(list))
			for _, e := range list {
				s, ok, err := content(e)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				if ok {
					toks = append(toks, s)
				}
			}
			out[k] = toks
			continue
		}
		s, ok, err := content(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if ok {
			out[k] = s
		}
	}
	return out, nil
}

// SpecialToken returns a special token read by Load ("bos_token", "eos_token", ...).
func (t *Template) SpecialToken(name string) (string, bool) {
	s, ok := t.special[name].(string)
	return s, ok
}

// Named returns one of the templates of a named set (nil if absent or if
// the model has a single template).
func (t *Template) Named(name string) *jinja.Template { return t.named[name] }

var reserved = map[string]bool{"messages": true, "tools": true, "documents": true, "add_generation_prompt": true}

// Render is apply_chat_template(messages, tools=tools, tokenize=False, ...).
// messages and tools hold pyjson values (each a *pyjson.Object); nil tools is
// tools=None (the variable is None), an empty non-nil slice is tools=[].
func (t *Template) Render(messages, tools []any, opt Options) (string, error) {
	jt := t.def
	if tools != nil && t.toolUse != nil {
		jt = t.toolUse
	}
	if jt == nil {
		return "", fmt.Errorf("chat: the template set has no \"default\" template (only \"tool_use\") and no tools were given")
	}
	vars := make(map[string]any, len(t.special)+len(opt.Extra)+5)
	for k, v := range t.special {
		vars[k] = v
	}
	for k, v := range opt.Extra {
		if reserved[k] {
			return "", fmt.Errorf("chat: Options.Extra may not set %q", k)
		}
		vars[k] = v
	}
	if messages == nil {
		messages = []any{}
	}
	vars["messages"] = messages
	if tools == nil {
		vars["tools"] = nil
	} else {
		vars["tools"] = tools
	}
	vars["documents"] = nil
	vars["add_generation_prompt"] = opt.AddGenerationPrompt
	if opt.EnableThinking != nil {
		vars["enable_thinking"] = *opt.EnableThinking
	}
	return jt.Render(vars)
}
