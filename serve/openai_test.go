package serve

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenAIClient runs serve/testdata/openai/client.mjs, the official
// `openai` npm package against the server. `make test-openai` installs the
// pinned package and sets STAR_OPENAI_CLIENT=1, which turns a missing
// package or node into a failure; otherwise the test runs when the package
// is installed and skips when it is not.
func TestOpenAIClient(t *testing.T) {
	required := os.Getenv("STAR_OPENAI_CLIENT") == "1"
	dir, err := filepath.Abs("testdata/openai")
	if err != nil {
		t.Fatal(err)
	}
	_, errPkg := os.Stat(filepath.Join(dir, "node_modules", "openai", "package.json"))
	node, errNode := exec.LookPath("node")
	if errPkg != nil || errNode != nil {
		if required {
			t.Fatalf("the openai npm package or node is missing (run make test-openai): %v %v", errPkg, errNode)
		}
		t.Skip("the openai npm package is not installed (make test-openai installs it)")
	}
	ts := startServer(t, Config{Name: "script-qwen3", APIKey: "test-key", MaxBatch: 8})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "STAR_URL="+ts.url+"/v1", "STAR_API_KEY=test-key", "STAR_MODEL=script-qwen3")
	out, err := cmd.CombinedOutput()
	t.Logf("node client.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the openai client failed: %v", err)
	}
}
