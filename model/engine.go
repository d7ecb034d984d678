package model

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend" // the pure-Go backend, always available
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// BackendEnv selects the compute backend when no explicit spec is given:
//
//	go          pure Go (default), with SIMD matmuls when built with GOEXPERIMENT=simd
//	xla:cuda    GoMLX's XLA backend with an installed PJRT CUDA plugin (build with -tags xla)
//	xla:cpu     XLA on CPU (build with -tags xla)
//
// See docs/model.md.
const BackendEnv = "STAR_BACKEND"

// Engine wraps one GoMLX backend; all graphs of a model run on it.
type Engine struct {
	Spec    string
	backend compute.Backend
}

var (
	defaultEngineOnce sync.Once
	defaultEngine     *Engine
	defaultEngineErr  error
)

// DefaultEngine is the process-wide engine from $STAR_BACKEND (default "go").
func DefaultEngine() (*Engine, error) {
	defaultEngineOnce.Do(func() {
		defaultEngine, defaultEngineErr = NewEngine(os.Getenv(BackendEnv))
	})
	return defaultEngine, defaultEngineErr
}

// NewEngine creates a backend from a spec ("" or "go" for pure Go, "xla:cuda", ...).
func NewEngine(spec string) (e *Engine, err error) {
	if spec == "" {
		spec = "go"
	}
	config := spec
	if spec == "go" {
		// The default bounded worker pool deadlocks on nested parallel ops
		// (seen in workerspool.(*Pool).Saturate in about 1 of 6 training
		// steps); unlimited parallelism avoids it.
		config = "go:parallelism=-1"
	}
	name, _, _ := strings.Cut(config, ":")
	found := false
	for _, b := range compute.List() {
		found = found || b == name
	}
	if !found {
		return nil, fmt.Errorf("backend %q is not compiled in (available: %v); the XLA backend needs `go build -tags xla`, see docs/model.md",
			name, compute.List())
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("backend %q: %v", spec, r)
		}
	}()
	// The Go backend prints its parallelism setting to stdout, where
	// commands write JSON: discard it (Engine.String reports the setting).
	stdout := os.Stdout
	if null, nerr := os.OpenFile(os.DevNull, os.O_WRONLY, 0); nerr == nil {
		os.Stdout = null
		defer null.Close()
	}
	b, err := compute.NewWithConfig(config)
	os.Stdout = stdout
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w", spec, err)
	}
	return &Engine{Spec: spec, backend: b}, nil
}

// HostMemory reports whether the backend's tensors live in host memory (the
// Go backend), so host code can read and update them in place.
func (e *Engine) HostMemory() bool { return e.backend.String() == gobackend.BackendName }

// String describes the backend.
func (e *Engine) String() string { return e.backend.Description() }

// graphCache holds the compiled executables of a model by purpose; each
// graph.Exec further caches one compilation per input-shape combination.
type graphCache struct {
	mu    sync.Mutex
	execs map[string]*graph.Exec
}

func (c *graphCache) get(e *Engine, key string, fn func(g *graph.Graph, in []*graph.Node) []*graph.Node) (*graph.Exec, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ex, ok := c.execs[key]; ok {
		return ex, nil
	}
	ex, err := graph.NewExec(e.backend, fn)
	if err != nil {
		return nil, err
	}
	// Shape buckets bound the number of compilations; allow plenty.
	ex.SetMaxCache(256)
	if c.execs == nil {
		c.execs = map[string]*graph.Exec{}
	}
	c.execs[key] = ex
	return ex, nil
}

// Engine returns the model's engine, the default one unless set with Use.
func (m *Model) Engine() (*Engine, error) {
	if m.engine != nil {
		return m.engine, nil
	}
	e, err := DefaultEngine()
	if err != nil {
		return nil, err
	}
	m.engine = e
	return e, nil
}

// Use sets the engine the model's graphs run on.
func (m *Model) Use(e *Engine) { m.engine, m.graphs = e, graphCache{} }

// run executes graph key (built by fn on first use) with the model's parameters
// followed by extra inputs. Errors (GoMLX panics included) are returned.
func (m *Model) run(key string, fn func(g *graph.Graph, in []*graph.Node) []*graph.Node, extra ...any) (out []*tensors.Tensor, err error) {
	params := make([]*tensors.Tensor, len(m.Names))
	for i, n := range m.Names {
		params[i] = m.Params[n]
	}
	return m.runWith(key, fn, params, extra...)
}

// runWith is run with an explicit list of weight tensors (e.g. the decode layout).
func (m *Model) runWith(key string, fn func(g *graph.Graph, in []*graph.Node) []*graph.Node, params []*tensors.Tensor, extra ...any) (out []*tensors.Tensor, err error) {
	e, err := m.Engine()
	if err != nil {
		return nil, err
	}
	ex, err := m.graphs.get(e, key, fn)
	if err != nil {
		return nil, err
	}
	args := make([]any, 0, len(params)+len(extra))
	for _, p := range params {
		args = append(args, p)
	}
	args = append(args, extra...)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", key, r)
		}
	}()
	return ex.Exec(args...)
}
