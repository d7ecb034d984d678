package acebench

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/eval"
	"github.com/star-go/star/internal/pyjson"
)

// TestRunAgainstFakeEndpoint: the chat requests carry ACEBench's messages,
// greedy with its 1024-token budget, and the answers are scored.
func TestRunAgainstFakeEndpoint(t *testing.T) {
	ds, err := Load("testdata/data", []string{"normal_atom_bool", "special_irrelevant"}, true)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req endpoint.ChatRequest
		if r.URL.Path != "/v1/chat/completions" || json.NewDecoder(r.Body).Decode(&req) != nil ||
			len(req.Messages) != 2 || req.MaxTokens == nil || *req.MaxTokens != 1024 || *req.Temperature != 0 {
			http.Error(w, "unexpected request", 400)
			return
		}
		// Answer atom_bool_1 right, and say the special answer to everything else.
		text := `["Due to the limitations of the function, I cannot solve this problem."]`
		var e *Entry
		for _, id := range ds.Order {
			m := Messages(ds.Entries[id])
			sys, _ := m[0].(*pyjson.Object).Get("content")
			if sys == *req.Messages[0].Content {
				usr, _ := m[1].(*pyjson.Object).Get("content")
				if usr == *req.Messages[1].Content {
					e = ds.Entries[id]
				}
			}
		}
		if e == nil {
			http.Error(w, "messages do not match ACEBench's", 400)
			return
		}
		if e.ID == "normal_atom_bool_1" {
			text = "[SolarNanoMaterialInsights(region_focus='Europe')]"
		}
		json.NewEncoder(w).Encode(endpoint.ChatResponse{Choices: []endpoint.ChatChoice{{Message: endpoint.ChatMessage{Role: "assistant", Content: &text}}}})
	}))
	defer srv.Close()
	out := t.TempDir()
	responses := filepath.Join(out, "responses.jsonl")
	gen := &eval.Endpoint{Client: &endpoint.Client{BaseURL: srv.URL, Model: "m", Timeout: 10 * time.Second}, Concurrency: 3}
	if err := eval.Run(context.Background(), Jobs(ds, 0), gen, eval.RunOptions{Path: responses, Row: eval.Row}); err != nil {
		t.Fatal(err)
	}
	s, err := ScoreFiles("testdata/data", []string{"normal_atom_bool", "special_irrelevant"}, responses, out)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Category["normal_atom_bool"]; c.Total != 4 || c.Accuracy != 0.25 {
		t.Errorf("atom_bool: %+v", c)
	}
	if c := s.Category["special_irrelevant"]; c.Total != 4 || c.Accuracy != 1 {
		t.Errorf("special_irrelevant: %+v", c)
	}
}
