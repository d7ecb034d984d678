package rollout

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

// TestFormatAgainstSimRL checks the rollout's validity rules against the
// original simrl.py's format score on its reference vectors: a generation
// the original scores −1 for format must be discarded, and one it accepts
// must be kept. (The rollout is stricter than the reward in two ways the
// vectors do not exercise: an unterminated <tool_call>, and arguments that
// are not an object; and it drops empty answers, which the reward scores 0.)
func TestFormatAgainstSimRL(t *testing.T) {
	f, err := os.Open(fixture.Path(t, "fixtures/simrl/reward_vectors.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	n, agree, bad := 0, 0, 0
	for sc.Scan() {
		v, err := pyjson.Unmarshal(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		o := v.(*pyjson.Object)
		get := func(k string) string { x, _ := o.Get(k); s, _ := x.(string); return s }
		fs, _ := o.Get("format_score")
		prompt, gen := get("prompt"), get("generation")
		full := prompt + gen
		text := full[strings.LastIndex(full, "<|im_start|>assistant\n")+len("<|im_start|>assistant\n"):]
		var tools []*pyjson.Object
		if i := strings.LastIndex(prompt, "<tools>"); i >= 0 {
			block := prompt[i+len("<tools>"):]
			block = block[:strings.Index(block, "</tools>")]
			for _, line := range strings.Split(block, "\n") {
				if strings.TrimSpace(line) == "" {
					continue
				}
				tv, err := pyjson.UnmarshalString(line)
				if err != nil {
					t.Fatal(err)
				}
				tools = append(tools, tv.(*pyjson.Object))
			}
		}
		_, reason := Check(Completion{Text: text, FinishReason: "stop"}, ToolsOf(tools))
		ok := reason == "" || reason == "empty answer"
		want := fs == int64(1)
		n++
		if !want {
			bad++
		}
		if ok == want {
			agree++
			continue
		}
		t.Errorf("%s: rollout %q, simrl format %v\n%q", get("case"), reason, fs, text)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 200 || bad < 20 {
		t.Fatalf("%d vectors, %d malformed: the fixture is not the one expected", n, bad)
	}
	t.Logf("%d/%d agree (%d malformed)", agree, n, bad)
}
