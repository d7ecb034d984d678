package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/star-go/star/export/gguf"
	"github.com/star-go/star/internal/fixture"
)

func TestExportGGUFCommand(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "m")
	if code := run(context.Background(), []string{"model", "init", "--vocab", "151936", "--hidden", "32", "--layers", "1",
		"--heads", "2", "--kv-heads", "1", "--head-dim", "16", "--intermediate", "64", "--tie", "-o", dir}); code != 0 {
		t.Fatalf("model init: exit %d", code)
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json", "chat_template.jinja"} {
		b, err := os.ReadFile(fixture.Path(t, "fixtures/qwen3/"+f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, f, string(b))
	}
	out := filepath.Join(tmp, "m.gguf")
	var code int
	stderr := captureStderr(t, func() {
		code = run(context.Background(), []string{"export", "gguf", dir, "-o", out, "--type", "q8_0", "--name", "student"})
	})
	if code != 0 || !strings.Contains(stderr, "wrote "+out+": 13 tensors, q8_0, vocab 151936") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	f, err := gguf.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := f.Get("general.name"); name != "student" {
		t.Errorf("general.name %v", name)
	}
	if ft, _ := f.Get("general.file_type"); ft != uint32(7) {
		t.Errorf("general.file_type %v, want 7 (MOSTLY_Q8_0)", ft)
	}

	// The fixture checkpoint's 1000-token vocabulary cannot hold the Qwen3 tokenizer.
	small := filepath.Join(tmp, "small")
	os.Mkdir(small, 0o755)
	for _, f := range []string{"fixtures/tiny-qwen3/tied-f32/config.json", "fixtures/tiny-qwen3/tied-f32/model.safetensors", "fixtures/qwen3/tokenizer.json"} {
		b, _ := os.ReadFile(fixture.Path(t, f))
		writeFile(t, small, filepath.Base(f), string(b))
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", "gguf", dir}, 2, "-o FILE is required"},
		{[]string{"export", "gguf", "-o", out}, 2, "want one model directory"},
		{[]string{"export", "gguf", dir, "-o", out, "--type", "q4_k"}, 2, "--type must be f32, f16, bf16 or q8_0"},
		{[]string{"export", "gguf", small, "-o", filepath.Join(tmp, "bad.gguf")}, 1, "outside the model's vocab_size 1000"},
	} {
		stderr := captureStderr(t, func() { code = run(context.Background(), c.args) })
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "bad.gguf")); !os.IsNotExist(err) {
		t.Errorf("bad.gguf exists after a failed export")
	}
}
