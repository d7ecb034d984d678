package serve

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"net/http"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/internal/pyjson"
)

// apiError is an OpenAI error response: {"error": {"message", "type", "param", "code"}}.
type apiError struct {
	Status  int
	Message string
	Type    string
	Param   string
	Code    string
}

func (e *apiError) Error() string { return e.Message }

func badRequest(param, code, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...),
		Type: "invalid_request_error", Param: param, Code: code}
}

// sampling holds the generation parameters both endpoints share.
type sampling struct {
	N           int
	Temperature float64 // OpenAI's default is 1
	TopP        float64
	TopK        int
	Seed        uint64
	MaxTokens   int // 0: up to the context
	Stop        []string
	Stream      bool
	// IncludeUsage: stream_options.include_usage.
	IncludeUsage bool
	// TokenIDs: vLLM's return_tokens_as_token_ids ("token_id:<id>" tokens).
	TokenIDs bool
	// IgnoreEOS: vLLM's ignore_eos (generate max_tokens, benchmarks).
	IgnoreEOS bool
}

type chatRequest struct {
	Model    string
	Messages []any // normalised pyjson message objects, for the template
	Tools    []any // tool objects (unwrapped, as STAR's data has them); nil: none
	// ParseCalls: tools were given and tool_choice is not "none".
	ParseCalls  bool
	Template    map[string]any // chat_template_kwargs other than enable_thinking
	Thinking    *bool
	Logprobs    bool
	TopLogprobs int
	sampling
}

type completionRequest struct {
	Model string
	// Prompts are text or token ids (one of the two per prompt).
	Texts          []string
	IDs            [][]int
	Echo           bool
	Logprobs       int // -1: none
	PromptLogprobs int // -1: none
	sampling
}

// limits bound what a request may ask for; the defaults fill what it
// leaves out.
type limits struct {
	MaxN        int
	MaxLogprobs int
	VocabSize   int
	Defaults    defaults
}

// defaults are the sampling parameters a request leaves out: OpenAI's
// (temperature 1, top_p 1, no top-k) unless the model's
// generation_config.json sets them, as vLLM does.
type defaults struct {
	Temperature, TopP float64
	TopK              int64
}

// fields reads typed members of a request object, naming the member in errors.
type fields struct {
	o *pyjson.Object
}

func (f fields) get(key string) (any, bool) {
	v, ok := f.o.Get(key)
	if !ok || v == nil {
		return nil, false
	}
	return v, true
}

func (f fields) str(key string) (string, bool, error) {
	v, ok := f.get(key)
	if !ok {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", false, badRequest(key, "invalid_type", "%s is %s, want a string", key, jsonl.TypeName(v))
	}
	return s, true, nil
}

func (f fields) boolean(key string) (bool, error) {
	v, ok := f.get(key)
	if !ok {
		return false, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, badRequest(key, "invalid_type", "%s is %s, want a boolean", key, jsonl.TypeName(v))
	}
	return b, nil
}

// integer reads an integer in [lo, hi]; def when absent or null.
func (f fields) integer(key string, def, lo, hi int64) (int64, error) {
	v, ok := f.get(key)
	if !ok {
		return def, nil
	}
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case float64: // 1.0 is accepted as 1, as Python's pydantic does
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, badRequest(key, "invalid_type", "%s is %v, want an integer", key, x)
		}
		n = int64(x)
	case *big.Int:
		return 0, badRequest(key, "invalid_value", "%s is out of range [%d, %d]", key, lo, hi)
	default:
		return 0, badRequest(key, "invalid_type", "%s is %s, want an integer", key, jsonl.TypeName(v))
	}
	if n < lo || n > hi {
		return 0, badRequest(key, "invalid_value", "%s is %d, want a value in [%d, %d]", key, n, lo, hi)
	}
	return n, nil
}

func (f fields) number(key string, def, lo, hi float64) (float64, error) {
	v, ok := f.get(key)
	if !ok {
		return def, nil
	}
	if _, isBool := v.(bool); isBool || !pyjson.IsNumber(v) {
		return 0, badRequest(key, "invalid_type", "%s is %s, want a number", key, jsonl.TypeName(v))
	}
	x, _ := pyjson.Float(v)
	if math.IsNaN(x) || x < lo || x > hi {
		return 0, badRequest(key, "invalid_value", "%s is %v, want a value in [%v, %v]", key, x, lo, hi)
	}
	return x, nil
}

// decodeObject parses a request body as one JSON object.
func decodeObject(body []byte) (fields, error) {
	v, err := pyjson.Unmarshal(body)
	if err != nil {
		return fields{}, badRequest("", "invalid_json", "the body is not valid JSON: %v", err)
	}
	o, ok := v.(*pyjson.Object)
	if !ok {
		return fields{}, badRequest("", "invalid_json", "the body is %s, want a JSON object", jsonl.TypeName(v))
	}
	return fields{o}, nil
}

// parseSampling reads the parameters shared by both endpoints.
func parseSampling(f fields, lim limits, maxTokensKeys ...string) (sampling, error) {
	var s sampling
	n, err := f.integer("n", 1, 1, int64(lim.MaxN))
	if err != nil {
		return s, err
	}
	s.N = int(n)
	if s.Temperature, err = f.number("temperature", lim.Defaults.Temperature, 0, 100); err != nil {
		return s, err
	}
	if s.TopP, err = f.number("top_p", lim.Defaults.TopP, 0, 1); err != nil {
		return s, err
	}
	if s.TopP == 0 {
		return s, badRequest("top_p", "invalid_value", "top_p must be in (0, 1]")
	}
	k, err := f.integer("top_k", lim.Defaults.TopK, -1, math.MaxInt32)
	if err != nil {
		return s, err
	}
	if k == 0 {
		k = -1 // vLLM: 0 and -1 both disable top-k
	}
	s.TopK = int(max(k, 0))
	// Without a seed every request samples differently.
	seed, err := f.integer("seed", int64(rand.Uint64()), math.MinInt64, math.MaxInt64)
	if err != nil {
		return s, err
	}
	s.Seed = uint64(seed)
	for _, key := range maxTokensKeys {
		mt, err := f.integer(key, 0, 1, math.MaxInt32)
		if err != nil {
			return s, err
		}
		if mt > 0 {
			s.MaxTokens = int(mt)
		}
	}
	if v, ok := f.get("stop"); ok {
		switch x := v.(type) {
		case string:
			s.Stop = []string{x}
		case []any:
			if len(x) > 16 {
				return s, badRequest("stop", "invalid_value", "stop has %d sequences, at most 16", len(x))
			}
			for i, e := range x {
				str, ok := e.(string)
				if !ok || str == "" {
					return s, badRequest("stop", "invalid_type", "stop[%d] is %s, want a non-empty string", i, jsonl.TypeName(e))
				}
				s.Stop = append(s.Stop, str)
			}
		default:
			return s, badRequest("stop", "invalid_type", "stop is %s, want a string or an array of strings", jsonl.TypeName(v))
		}
	}
	if s.Stream, err = f.boolean("stream"); err != nil {
		return s, err
	}
	if v, ok := f.get("stream_options"); ok {
		so, isObj := v.(*pyjson.Object)
		if !isObj {
			return s, badRequest("stream_options", "invalid_type", "stream_options is %s, want an object", jsonl.TypeName(v))
		}
		if !s.Stream {
			return s, badRequest("stream_options", "invalid_value", "stream_options is only allowed with stream: true")
		}
		if s.IncludeUsage, err = (fields{so}).boolean("include_usage"); err != nil {
			err.(*apiError).Param = "stream_options.include_usage"
			return s, err
		}
	}
	if s.TokenIDs, err = f.boolean("return_tokens_as_token_ids"); err != nil {
		return s, err
	}
	if s.IgnoreEOS, err = f.boolean("ignore_eos"); err != nil {
		return s, err
	}
	// Parameters the engine does not implement are refused unless they ask
	// for nothing: a silently different distribution would be worse.
	for _, u := range []struct {
		key string
		off float64
	}{{"presence_penalty", 0}, {"frequency_penalty", 0}, {"repetition_penalty", 1}, {"min_p", 0}} {
		if v, err := f.number(u.key, u.off, -1e9, 1e9); err != nil {
			return s, err
		} else if v != u.off {
			return s, badRequest(u.key, "unsupported_parameter", "%s is not supported by this server (only %v)", u.key, u.off)
		}
	}
	if v, ok := f.get("logit_bias"); ok {
		if o, isObj := v.(*pyjson.Object); !isObj || o.Len() > 0 {
			return s, badRequest("logit_bias", "unsupported_parameter", "logit_bias is not supported by this server")
		}
	}
	if v, ok := f.get("response_format"); ok {
		o, _ := v.(*pyjson.Object)
		var typ any
		if o != nil {
			typ, _ = o.Get("type")
		}
		if typ != "text" {
			return s, badRequest("response_format", "unsupported_parameter", "response_format other than {\"type\": \"text\"} is not supported by this server")
		}
	}
	return s, nil
}

// parseChat reads a /v1/chat/completions body.
func parseChat(body []byte, lim limits) (*chatRequest, error) {
	f, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	r := &chatRequest{}
	var ok bool
	if r.Model, ok, err = f.str("model"); err != nil {
		return nil, err
	} else if !ok {
		return nil, badRequest("model", "missing_required_parameter", "model is required")
	}
	mv, ok := f.get("messages")
	list, isList := mv.([]any)
	if !ok || !isList || len(list) == 0 {
		return nil, badRequest("messages", "invalid_value", "messages must be a non-empty array")
	}
	for i, m := range list {
		if o, ok := m.(*pyjson.Object); ok {
			if role, _ := o.Get("role"); role == "developer" { // OpenAI's newer name for system
				c := &pyjson.Object{Members: append([]pyjson.Member(nil), o.Members...)}
				c.Set("role", message.System)
				m = c
			}
		}
		msg, err := message.ParseMessage(m)
		if err != nil {
			return nil, fieldError(fmt.Sprintf("messages[%d]", i), err)
		}
		o := msg.Object()
		if msg.Role == message.Tool || msg.Role == message.User || msg.Role == message.System {
			if msg.Content == nil {
				return nil, badRequest(fmt.Sprintf("messages[%d].content", i), "invalid_value", "a %s message needs content", msg.Role)
			}
		}
		r.Messages = append(r.Messages, o)
	}
	toolNames := map[string]bool{}
	if tv, ok := f.get("tools"); ok {
		tl, isList := tv.([]any)
		if !isList {
			return nil, badRequest("tools", "invalid_type", "tools is %s, want an array", jsonl.TypeName(tv))
		}
		r.Tools = []any{}
		for i, t := range tl {
			if to, isObj := t.(*pyjson.Object); isObj {
				if typ, has := to.Get("type"); has && typ != "function" {
					return nil, badRequest(fmt.Sprintf("tools[%d].type", i), "invalid_value", "tools[%d].type is %s, only \"function\" is supported", i, pyjson.MarshalString(typ))
				}
			}
			tool, err := message.ParseTool(t)
			if err != nil {
				return nil, fieldError(fmt.Sprintf("tools[%d]", i), err)
			}
			name, _ := tool.Get("name")
			toolNames[name.(string)] = true
			r.Tools = append(r.Tools, tool)
		}
		if len(tl) == 0 {
			r.Tools = nil
		}
	}
	r.ParseCalls = len(r.Tools) > 0
	if tc, ok := f.get("tool_choice"); ok {
		switch x := tc.(type) {
		case string:
			switch x {
			case "none":
				r.ParseCalls = false
			case "auto":
			default:
				return nil, badRequest("tool_choice", "invalid_value", "tool_choice %q is not supported (none or auto)", x)
			}
		default:
			return nil, badRequest("tool_choice", "invalid_value", "tool_choice must be \"none\" or \"auto\" (forcing a function is not supported)")
		}
	}
	if v, ok := f.get("chat_template_kwargs"); ok {
		kw, isObj := v.(*pyjson.Object)
		if !isObj {
			return nil, badRequest("chat_template_kwargs", "invalid_type", "chat_template_kwargs is %s, want an object", jsonl.TypeName(v))
		}
		for _, m := range kw.Members {
			switch m.Key {
			case "enable_thinking":
				b, isBool := m.Value.(bool)
				if !isBool {
					return nil, badRequest("chat_template_kwargs.enable_thinking", "invalid_type", "enable_thinking must be a boolean")
				}
				r.Thinking = &b
			case "messages", "tools", "documents", "add_generation_prompt":
				return nil, badRequest("chat_template_kwargs."+m.Key, "invalid_value", "chat_template_kwargs may not set %q", m.Key)
			default:
				if r.Template == nil {
					r.Template = map[string]any{}
				}
				r.Template[m.Key] = m.Value
			}
		}
	}
	if r.Logprobs, err = f.boolean("logprobs"); err != nil {
		return nil, err
	}
	tl, err := f.integer("top_logprobs", 0, 0, int64(lim.MaxLogprobs))
	if err != nil {
		return nil, err
	}
	r.TopLogprobs = int(tl)
	if r.TopLogprobs > 0 && !r.Logprobs {
		return nil, badRequest("top_logprobs", "invalid_value", "top_logprobs needs logprobs: true")
	}
	if r.sampling, err = parseSampling(f, lim, "max_tokens", "max_completion_tokens"); err != nil {
		return nil, err
	}
	return r, nil
}

// parseCompletion reads a /v1/completions body.
func parseCompletion(body []byte, lim limits) (*completionRequest, error) {
	f, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	r := &completionRequest{}
	var ok bool
	if r.Model, ok, err = f.str("model"); err != nil {
		return nil, err
	} else if !ok {
		return nil, badRequest("model", "missing_required_parameter", "model is required")
	}
	pv, ok := f.get("prompt")
	if !ok {
		return nil, badRequest("prompt", "missing_required_parameter", "prompt is required")
	}
	if err := r.readPrompt(pv, lim.VocabSize); err != nil {
		return nil, err
	}
	if r.Echo, err = f.boolean("echo"); err != nil {
		return nil, err
	}
	lp, err := f.integer("logprobs", -1, 0, int64(lim.MaxLogprobs))
	if err != nil {
		return nil, err
	}
	r.Logprobs = int(lp)
	plp, err := f.integer("prompt_logprobs", -1, 0, int64(lim.MaxLogprobs))
	if err != nil {
		return nil, err
	}
	r.PromptLogprobs = int(plp)
	if r.sampling, err = parseSampling(f, lim, "max_tokens"); err != nil {
		return nil, err
	}
	if bo, err := f.integer("best_of", 1, 1, math.MaxInt32); err != nil {
		return nil, err
	} else if bo != 1 && bo != int64(r.N) {
		return nil, badRequest("best_of", "unsupported_parameter", "best_of other than n is not supported by this server")
	}
	if sfx, _, err := f.str("suffix"); err != nil {
		return nil, err
	} else if sfx != "" {
		return nil, badRequest("suffix", "unsupported_parameter", "suffix is not supported by this server")
	}
	if r.Stream && r.PromptLogprobs >= 0 {
		return nil, badRequest("prompt_logprobs", "invalid_value", "prompt_logprobs is not supported with stream: true")
	}
	return r, nil
}

// readPrompt accepts a string, a list of strings, a list of token ids or a
// list of lists of token ids.
func (r *completionRequest) readPrompt(v any, vocab int) error {
	ids := func(list []any, param string) ([]int, error) {
		out := make([]int, len(list))
		for i, e := range list {
			n, ok := e.(int64)
			if !ok || n < 0 || n >= int64(vocab) {
				return nil, badRequest(param, "invalid_value", "%s[%d] is %s, want a token id in [0, %d)", param, i, pyjson.MarshalString(e), vocab)
			}
			out[i] = int(n)
		}
		if len(out) == 0 {
			return nil, badRequest(param, "invalid_value", "%s is an empty list of token ids", param)
		}
		return out, nil
	}
	switch x := v.(type) {
	case string:
		r.Texts = []string{x}
		return nil
	case []any:
		if len(x) == 0 {
			return badRequest("prompt", "invalid_value", "prompt is an empty list")
		}
		switch x[0].(type) {
		case int64:
			p, err := ids(x, "prompt")
			if err != nil {
				return err
			}
			r.IDs = [][]int{p}
			return nil
		case string:
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return badRequest("prompt", "invalid_type", "prompt[%d] is %s, want a string", i, jsonl.TypeName(e))
				}
				r.Texts = append(r.Texts, s)
			}
			return nil
		case []any:
			for i, e := range x {
				l, ok := e.([]any)
				if !ok {
					return badRequest("prompt", "invalid_type", "prompt[%d] is %s, want a list of token ids", i, jsonl.TypeName(e))
				}
				p, err := ids(l, fmt.Sprintf("prompt[%d]", i))
				if err != nil {
					return err
				}
				r.IDs = append(r.IDs, p)
			}
			return nil
		}
	}
	return badRequest("prompt", "invalid_type", "prompt must be a string, a list of strings, a list of token ids or a list of such lists")
}

// fieldError turns a message-package error into a 400 naming the field.
func fieldError(prefix string, err error) *apiError {
	if fe, ok := err.(*jsonl.FieldError); ok {
		p := prefix
		if fe.Field != "" {
			p += "." + fe.Field
		}
		return badRequest(p, "invalid_value", "%s: %s", p, fe.Reason)
	}
	return badRequest(prefix, "invalid_value", "%s: %v", prefix, err)
}
