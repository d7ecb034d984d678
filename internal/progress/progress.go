// Package progress draws a progress line on stderr for long jobs: done/total,
// rate and ETA. On a terminal it redraws one line; in a log (CI, a pipe) it
// prints a plain line every few seconds so logs stay readable.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bar tracks one job. It is safe for concurrent use.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	label    string
	unit     string // "B" for bytes (shown as MB/s), else a count unit like "rec"
	total    int64  // 0 when unknown
	done     int64
	items    int64 // records processed, reported beside bytes
	start    time.Time
	last     time.Time
	interval time.Duration
	finished bool
	note     string // shown after the counts (a trainer's loss, say)
}

// New starts a bar on stderr. unit "B" means done/total count bytes.
func New(label string, total int64, unit string) *Bar {
	return NewWriter(os.Stderr, label, total, unit)
}

// NewWriter starts a bar writing to w.
func NewWriter(w io.Writer, label string, total int64, unit string) *Bar {
	b := &Bar{w: w, label: label, total: total, unit: unit, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	b.interval = 10 * time.Second
	if b.tty {
		b.interval = 200 * time.Millisecond
	}
	b.last = b.start
	return b
}

// Set records absolute progress (for byte offsets) and the item count.
func (b *Bar) Set(done, items int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.done, b.items = done, items
	b.maybeDraw()
	b.mu.Unlock()
}

// Add adds n to the progress (for counted units).
func (b *Bar) Add(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.done += n
	b.items += n
	b.maybeDraw()
	b.mu.Unlock()
}

// Note sets a short text shown after the counts, such as a current loss.
func (b *Bar) Note(s string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.note = s
	b.mu.Unlock()
}

func (b *Bar) maybeDraw() {
	now := time.Now()
	if now.Sub(b.last) < b.interval || b.finished {
		return
	}
	b.last = now
	b.draw(now)
}

func (b *Bar) draw(now time.Time) {
	line := b.line(now)
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(b.w, line)
	}
}

func (b *Bar) line(now time.Time) string {
	el := now.Sub(b.start).Seconds()
	var sb strings.Builder
	sb.WriteString(b.label)
	if b.total > 0 {
		frac := float64(b.done) / float64(b.total)
		if frac > 1 {
			frac = 1
		}
		const width = 24
		n := int(frac * width)
		fmt.Fprintf(&sb, " %3.0f%% [%s%s]", frac*100, strings.Repeat("=", n), strings.Repeat(" ", width-n))
	}
	if b.unit == "B" {
		fmt.Fprintf(&sb, " %s rec", human(float64(b.items)))
		if el > 0 {
			fmt.Fprintf(&sb, " %.1f MB/s %s rec/s", float64(b.done)/el/1e6, human(float64(b.items)/el))
		}
	} else {
		fmt.Fprintf(&sb, " %s", human(float64(b.done)))
		if b.total > 0 {
			fmt.Fprintf(&sb, "/%s", human(float64(b.total)))
		}
		fmt.Fprintf(&sb, " %s", b.unit)
		if el > 0 {
			fmt.Fprintf(&sb, " %s/s", human(float64(b.done)/el))
		}
	}
	if b.total > 0 && b.done > 0 && b.done < b.total && el > 0 {
		eta := time.Duration(float64(b.total-b.done) / (float64(b.done) / el) * float64(time.Second))
		fmt.Fprintf(&sb, " ETA %s", clock(eta))
	}
	fmt.Fprintf(&sb, " elapsed %s", clock(now.Sub(b.start)))
	if b.note != "" {
		sb.WriteString(" ")
		sb.WriteString(b.note)
	}
	return sb.String()
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s\n", b.line(time.Now()))
	}
}

// Elapsed is the time since the bar started.
func (b *Bar) Elapsed() time.Duration { return time.Since(b.start) }

func human(x float64) string {
	switch {
	case x >= 1e9:
		return fmt.Sprintf("%.2fG", x/1e9)
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e4:
		return fmt.Sprintf("%.1fk", x/1e3)
	case x == float64(int64(x)):
		return fmt.Sprintf("%d", int64(x))
	default:
		return fmt.Sprintf("%.1f", x)
	}
}

func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
