package endpoint

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The wire types of the OpenAI API as vLLM extends it. Optional numbers are
// pointers so that 0 (temperature 0, max_tokens 0) can be sent; Ptr makes one.

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

// CompletionRequest is a POST /v1/completions body.
type CompletionRequest struct {
	Model string `json:"model"`
	// Prompt is a string, a []int of token ids, or a batch of either
	// ([]string, [][]int).
	Prompt      any      `json:"prompt"`
	N           int      `json:"n,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	TopK        *int     `json:"top_k,omitempty"` // vLLM; -1 disables
	MinP        *float64 `json:"min_p,omitempty"` // vLLM
	Seed        *int64   `json:"seed,omitempty"`
	MaxTokens   *int     `json:"max_tokens,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	// Logprobs asks for the top-k log-probs of each generated token.
	Logprobs *int `json:"logprobs,omitempty"`
	Echo     bool `json:"echo,omitempty"`
	Stream   bool `json:"stream,omitempty"`
	// StreamOptions: {"include_usage": true}.
	StreamOptions *StreamOptions `json:"stream_options,omitempty"`
	// PromptLogprobs (vLLM) scores the prompt: the top-k of every prompt
	// position, in each choice's PromptLogprobs.
	PromptLogprobs *int `json:"prompt_logprobs,omitempty"`
	// ReturnTokensAsTokenIDs (vLLM): tokens come back as "token_id:<id>".
	ReturnTokensAsTokenIDs bool `json:"return_tokens_as_token_ids,omitempty"`
	// ReturnTokenIDs (vLLM ≥ 0.10): choices carry prompt_token_ids and token_ids.
	ReturnTokenIDs bool `json:"return_token_ids,omitempty"`
	// SkipSpecialTokens (vLLM, default true) drops special tokens from the text.
	SkipSpecialTokens *bool  `json:"skip_special_tokens,omitempty"`
	User              string `json:"user,omitempty"`
}

// StreamOptions is OpenAI's stream_options.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage,omitempty"`
}

// CompletionResponse is a /v1/completions response (and, with Object
// "text_completion" chunks, each streamed event).
type CompletionResponse struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []CompletionChoice `json:"choices"`
	Usage   *Usage             `json:"usage,omitempty"`
}

// CompletionChoice is one completion.
type CompletionChoice struct {
	Index        int                 `json:"index"`
	Text         string              `json:"text"`
	FinishReason *string             `json:"finish_reason"` // "stop", "length"; null while streaming
	StopReason   any                 `json:"stop_reason,omitempty"`
	Logprobs     *CompletionLogprobs `json:"logprobs"`
	// PromptLogprobs (vLLM) has one entry per prompt token; the first is
	// null (nil). Each maps "<token id>" to the log-prob of that token: the
	// prompt's own token and the top-k.
	PromptLogprobs []map[string]PromptLogprob `json:"prompt_logprobs,omitempty"`
	PromptTokenIDs []int                      `json:"prompt_token_ids,omitempty"`
	TokenIDs       []int                      `json:"token_ids,omitempty"`
}

// Finish is FinishReason, "" when null.
func (c *CompletionChoice) Finish() string {
	if c.FinishReason == nil {
		return ""
	}
	return *c.FinishReason
}

// CompletionLogprobs is the legacy completions log-prob object. With echo,
// the first prompt token's entries are null (nil).
type CompletionLogprobs struct {
	TextOffset    []int                `json:"text_offset"`
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []*float64           `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
}

// PromptLogprob is one entry of vLLM's prompt_logprobs.
type PromptLogprob struct {
	Logprob      float64 `json:"logprob"`
	Rank         *int    `json:"rank"`
	DecodedToken string  `json:"decoded_token"`
}

// TokenID reads a token written as vLLM's return_tokens_as_token_ids writes
// it ("token_id:123") or as a prompt_logprobs key ("123").
func TokenID(s string) (int, error) {
	id, err := strconv.Atoi(strings.TrimPrefix(s, "token_id:"))
	if err != nil {
		return 0, fmt.Errorf("token %q is not a token id", s)
	}
	return id, nil
}

// Usage counts tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ChatRequest is a POST /v1/chat/completions body.
type ChatRequest struct {
	Model               string          `json:"model"`
	Messages            []ChatMessage   `json:"messages"`
	Tools               []Tool          `json:"tools,omitempty"`
	ToolChoice          any             `json:"tool_choice,omitempty"` // "none", "auto", or {"type":"function",…}
	N                   int             `json:"n,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	TopK                *int            `json:"top_k,omitempty"`
	Seed                *int64          `json:"seed,omitempty"`
	MaxTokens           *int            `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	Stop                []string        `json:"stop,omitempty"`
	Logprobs            bool            `json:"logprobs,omitempty"`
	TopLogprobs         *int            `json:"top_logprobs,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`
	ChatTemplateKwargs  map[string]any  `json:"chat_template_kwargs,omitempty"` // vLLM: {"enable_thinking": false}
	ReturnTokensAsIDs   bool            `json:"return_tokens_as_token_ids,omitempty"`
	ResponseFormat      json.RawMessage `json:"response_format,omitempty"`
	User                string          `json:"user,omitempty"`
}

// ChatMessage is a message of a request or a response. Content is null
// (nil) for an assistant turn that only calls tools.
type ChatMessage struct {
	Role             string     `json:"role"`
	Content          *string    `json:"content"`
	ReasoningContent *string    `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID       string     `json:"tool_call_id,omitempty"`
	Name             string     `json:"name,omitempty"`
}

// ToolCall is one call of an assistant message; Index is set in streamed deltas.
type ToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"` // "function"
	Function FunctionCall `json:"function"`
}

// FunctionCall is a call's function: Arguments is JSON text.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
}

// Tool is an entry of a request's tools.
type Tool struct {
	Type     string      `json:"type"` // "function"
	Function FunctionDef `json:"function"`
}

// FunctionDef describes a tool. Parameters is raw JSON so that its key
// order, which the chat template renders, survives (write it with pyjson).
type FunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// ChatResponse is a /v1/chat/completions response.
type ChatResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"` // "chat.completion"
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []ChatChoice `json:"choices"`
	Usage   *Usage       `json:"usage,omitempty"`
}

// ChatChoice is one answer.
type ChatChoice struct {
	Index        int           `json:"index"`
	Message      ChatMessage   `json:"message"`
	FinishReason string        `json:"finish_reason"` // "stop", "length", "tool_calls"
	Logprobs     *ChatLogprobs `json:"logprobs"`
}

// ChatLogprobs is a chat choice's log-probs.
type ChatLogprobs struct {
	Content []TokenLogprob `json:"content"`
}

// TokenLogprob is one generated token with its top alternatives.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// TopLogprob is one alternative.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// ChatChunk is one streamed chat event (Object "chat.completion.chunk").
type ChatChunk struct {
	ID      string            `json:"id"`
	Object  string            `json:"object"`
	Created int64             `json:"created"`
	Model   string            `json:"model"`
	Choices []ChatChunkChoice `json:"choices"`
	Usage   *Usage            `json:"usage,omitempty"`
}

// ChatChunkChoice is one choice's delta.
type ChatChunkChoice struct {
	Index        int           `json:"index"`
	Delta        ChatDelta     `json:"delta"`
	FinishReason *string       `json:"finish_reason"`
	Logprobs     *ChatLogprobs `json:"logprobs,omitempty"`
}

// ChatDelta is the part of a message a chunk adds.
type ChatDelta struct {
	Role             string     `json:"role,omitempty"`
	Content          *string    `json:"content,omitempty"`
	ReasoningContent *string    `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
}

// ErrorResponse is OpenAI's error body.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is OpenAI's error object.
type ErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    any     `json:"code"`
}

// ModelList is a GET /v1/models response.
type ModelList struct {
	Object string  `json:"object"` // "list"
	Data   []Model `json:"data"`
}

// Model is one served model.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "model"
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	// MaxModelLen (vLLM) is the context length.
	MaxModelLen int `json:"max_model_len,omitempty"`
}
