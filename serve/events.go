package serve

import (
	"encoding/json"
	"net/http"
)

// events writes server-sent events: "data: JSON\n\n" per chunk, then
// "data: [DONE]\n\n".
type events struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
	broken  bool
}

func newEvents(w http.ResponseWriter) *events {
	return &events{w: w, rc: http.NewResponseController(w)}
}

func (e *events) start() {
	if e.started {
		return
	}
	e.started = true
	h := e.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	e.w.WriteHeader(http.StatusOK)
}

// send writes one event; false when the client is gone.
func (e *events) send(v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		e.fail(&apiError{Status: http.StatusInternalServerError, Message: "encoding a chunk: " + err.Error(), Type: "internal_error", Code: "internal_error"})
		return false
	}
	return e.write(b)
}

func (e *events) write(data []byte) bool {
	if e.broken {
		return false
	}
	e.start()
	buf := make([]byte, 0, len(data)+8)
	buf = append(buf, "data: "...)
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	if _, err := e.w.Write(buf); err != nil {
		e.broken = true
		return false
	}
	if err := e.rc.Flush(); err != nil {
		e.broken = true
		return false
	}
	return true
}

// fail sends an error event (as vLLM does mid-stream) and ends the stream.
func (e *events) fail(ae *apiError) {
	var param, code any
	if ae.Param != "" {
		param = ae.Param
	}
	if ae.Code != "" {
		code = ae.Code
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": ae.Message, "type": ae.Type, "param": param, "code": code}})
	e.write(b)
	e.done()
}

func (e *events) done() { e.write([]byte("[DONE]")) }
