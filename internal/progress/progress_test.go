package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	var buf bytes.Buffer
	b := NewWriter(&buf, "tokenize", 1000, "rec")
	b.start = time.Now().Add(-10 * time.Second)
	b.done = 250
	got := b.line(time.Now())
	for _, want := range []string{"tokenize", " 25%", "250/1000 rec", "25.0/s", "ETA 0:30", "elapsed 0:10"} {
		if !strings.Contains(got, want) {
			t.Errorf("line %q lacks %q", got, want)
		}
	}
	bb := NewWriter(&buf, "read", 2e6, "B")
	bb.start = time.Now().Add(-2 * time.Second)
	bb.done, bb.items = 1e6, 500
	got = bb.line(time.Now())
	for _, want := range []string{" 50%", "500 rec", "0.5 MB/s", "250.0 rec/s", "ETA 0:02"} {
		if !strings.Contains(got, want) {
			t.Errorf("line %q lacks %q", got, want)
		}
	}
}

func TestLogModeThrottles(t *testing.T) {
	var buf bytes.Buffer
	b := NewWriter(&buf, "x", 0, "rec")
	for i := 0; i < 1000; i++ {
		b.Add(1)
	}
	b.Finish()
	if buf.Len() != 0 {
		t.Errorf("a non-terminal writer got output within the first interval: %q", buf.String())
	}
}
