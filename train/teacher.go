package train

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/internal/progress"
	"github.com/star-go/star/model"
)

// Scorer gives a teacher's top-k at the rows first..len(seq)-2 of a token
// sequence (row r scores token r+1), best first.
type Scorer interface {
	Score(ctx context.Context, seq []int, first, k int) (ids []int32, vals []float32, err error)
}

// ModelScorer scores with a checkpoint in-process, one sequence at a time
// (a Model is not safe for concurrent use; the engine uses every core).
type ModelScorer struct {
	M  *model.Model
	mu sync.Mutex
}

func (s *ModelScorer) Score(_ context.Context, seq []int, first, k int) ([]int32, []float32, error) {
	s.mu.Lock()
	vals, ids, err := s.M.TopKLogprobsFrom(seq, first, k)
	s.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	var oi []int32
	var ov []float32
	for r := range vals {
		for j := range k {
			oi = append(oi, int32(ids[r][j]))
			ov = append(ov, vals[r][j])
		}
	}
	return oi, ov, nil
}

// EndpointScorer asks an OpenAI-compatible server that scores a given
// sequence: vLLM's /v1/completions with the prompt as token ids,
// max_tokens 1 and prompt_logprobs k (the server needs --max-logprobs ≥ k).
type EndpointScorer struct {
	Client *endpoint.Client
	Model  string // the served model name
}

func (s *EndpointScorer) Score(ctx context.Context, seq []int, first, k int) ([]int32, []float32, error) {
	resp, err := s.Client.Completions(ctx, &endpoint.CompletionRequest{Model: s.Model, Prompt: seq,
		MaxTokens: endpoint.Ptr(1), Temperature: endpoint.Ptr(0.0), PromptLogprobs: endpoint.Ptr(k)})
	if err != nil {
		return nil, nil, err
	}
	if len(resp.Choices) == 0 {
		return nil, nil, errors.New("response has no choices")
	}
	pl := resp.Choices[0].PromptLogprobs
	if len(pl) != len(seq) {
		return nil, nil, fmt.Errorf("prompt_logprobs has %d entries for a %d-token prompt (does the server support prompt_logprobs?)", len(pl), len(seq))
	}
	type cand struct {
		id int
		lp float64
	}
	var oi []int32
	var ov []float32
	for r := first; r < len(seq)-1; r++ {
		entry := pl[r+1] // entry t scores token t
		cs := make([]cand, 0, len(entry))
		for tok, v := range entry {
			id, err := endpoint.TokenID(tok)
			if err != nil {
				return nil, nil, fmt.Errorf("prompt_logprobs[%d]: %v", r+1, err)
			}
			cs = append(cs, cand{id, v.Logprob})
		}
		// The entry holds the top k plus the prompt's own token when it is
		// not among them: keep the k best.
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].lp != cs[j].lp {
				return cs[i].lp > cs[j].lp
			}
			return cs[i].id < cs[j].id
		})
		if len(cs) < k {
			return nil, nil, fmt.Errorf("prompt_logprobs[%d] has %d tokens, want k = %d (start vLLM with --max-logprobs %d)", r+1, len(cs), k, k)
		}
		for _, c := range cs[:k] {
			oi = append(oi, int32(c.id))
			ov = append(ov, float32(c.lp))
		}
	}
	return oi, ov, nil
}

// TopKJob is `star teacher topk`: score every record of Data with a
// teacher and write the store Out.
type TopKJob struct {
	Data    string
	Out     string
	Rejects string
	// TokenizerDir tokenizes text records (and names the store's tokenizer).
	TokenizerDir string
	Teacher      string // recorded in the header: a directory or a served model name
	VocabSize    int
	K            int
	MaxLen       int
	Concurrency  int
}

// WriteTopK runs a TopKJob. It resumes an interrupted run (OUT.partial)
// and writes the store atomically at the end.
func WriteTopK(ctx context.Context, job TopKJob, sc Scorer, log io.Writer) error {
	if job.K < 1 {
		return fmt.Errorf("-k %d: must be ≥ 1", job.K)
	}
	if job.VocabSize > 0 && job.K > job.VocabSize {
		return fmt.Errorf("-k %d > the teacher's vocabulary %d", job.K, job.VocabSize)
	}
	rejects, err := jsonl.NewRejects(job.Rejects)
	if err != nil {
		return err
	}
	defer rejects.Close()
	examples, st, err := ReadExamples(job.Data, DataOptions{ModelDir: job.TokenizerDir, Vocab: job.VocabSize, MaxLen: job.MaxLen}, rejects)
	if err != nil {
		return err
	}
	if len(examples) == 0 {
		return fmt.Errorf("%s: no usable records (%s)", job.Data, rejects.Summary())
	}
	tokHash, err := TokenizerHash(job.TokenizerDir)
	if err != nil {
		return err
	}
	dataHash, err := HashFile(job.Data)
	if err != nil {
		return err
	}
	sw, err := CreateStore(job.Out, StoreHeader{Teacher: job.Teacher, K: job.K, VocabSize: job.VocabSize, Tokenizer: tokHash,
		Data: filepath.Base(job.Data), DataSHA256: dataHash, MaxLen: job.MaxLen})
	if err != nil {
		return err
	}
	var todo []*Example
	for _, e := range examples {
		if !sw.Has(e.Key) {
			todo = append(todo, e)
		}
	}
	if done := len(examples) - len(todo); done > 0 {
		fmt.Fprintf(log, "resuming %s.partial: %d of %d records already scored\n", job.Out, done, len(examples))
	}
	bar := progress.New("teacher topk", int64(len(todo)), "rec")
	err = scoreAll(ctx, todo, sc, job, sw, bar)
	bar.Finish()
	if err != nil {
		if aerr := sw.Abort(); aerr != nil {
			return fmt.Errorf("%w (and saving the partial store: %v)", err, aerr)
		}
		return fmt.Errorf("%w (%d records kept in %s.partial; rerun to resume)", err, sw.Len(), job.Out)
	}
	if err := sw.Close(); err != nil {
		return err
	}
	var targets int64
	for _, e := range examples {
		targets += int64(e.Targets())
	}
	info, _ := os.Stat(job.Out)
	size := int64(0)
	if info != nil {
		size = info.Size()
	}
	fmt.Fprintf(log, "teacher topk: %d records, %d target tokens, k = %d → %s (%.1f MB, %.0f B/token); %d truncated, %s\n",
		len(examples), targets, job.K, job.Out, float64(size)/1e6, float64(size)/float64(max(targets, 1)), st.Truncated, rejects.Summary())
	return nil
}

// scoreAll scores records on job.Concurrency workers and appends them to
// the store as they finish (flushed every few seconds, so an interrupted
// run keeps its work).
func scoreAll(ctx context.Context, todo []*Example, sc Scorer, job TopKJob, sw *StoreWriter, bar *progress.Bar) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(1, job.Concurrency)
	jobs := make(chan *Example)
	type result struct {
		rec *StoreRecord
		err error
	}
	results := make(chan result)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range jobs {
				first := e.PromptLen - 1
				ids, vals, err := sc.Score(ctx, e.Seq, first, job.K)
				if err != nil {
					err = fmt.Errorf("%s:%d (id %s): %w", job.Data, e.Line, e.ID, err)
				}
				select {
				case results <- result{&StoreRecord{Key: e.Key, ID: e.ID, First: first, IDs: ids, Vals: vals}, err}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, e := range todo {
			select {
			case jobs <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	var firstErr error
	lastFlush := time.Now()
	for r := range results {
		if firstErr != nil {
			continue
		}
		if r.err == nil {
			r.err = sw.Add(r.rec)
		}
		if r.err != nil {
			firstErr = r.err
			cancel()
			continue
		}
		bar.Add(1)
		if time.Since(lastFlush) > 5*time.Second {
			if err := sw.Flush(); err != nil {
				firstErr = err
				cancel()
			}
			lastFlush = time.Now()
		}
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// StoreTeacher reads the teacher's top-k from a store during training.
type StoreTeacher struct{ S *Store }

func (t *StoreTeacher) TopK(_ context.Context, mb []*Example, k int) ([][][]float32, [][][]int, error) {
	K := t.S.Header.K
	if k > K {
		return nil, nil, fmt.Errorf("--topk %d but %s holds k = %d", k, t.S.Path, K)
	}
	var vals [][][]float32
	var ids [][][]int
	for _, e := range mb {
		rec, err := t.S.Get(e.Key)
		if err != nil {
			return nil, nil, err
		}
		if rec == nil {
			return nil, nil, fmt.Errorf("record %s (line %d) is not in %s: the store was made from other data or another tokenization", e.ID, e.Line, t.S.Path)
		}
		first := e.PromptLen - 1
		if rec.First != first || rec.N(K) < e.Targets() {
			return nil, nil, fmt.Errorf("record %s (line %d): %s has %d positions from row %d, training needs %d from row %d (made with a smaller --max-len?)",
				e.ID, e.Line, t.S.Path, rec.N(K), rec.First, e.Targets(), first)
		}
		v := make([][]float32, len(e.Seq)-1)
		id := make([][]int, len(e.Seq)-1)
		for i := range e.Targets() {
			v[first+i] = rec.Vals[i*K : i*K+k]
			row := make([]int, k)
			for j := range k {
				row[j] = int(rec.IDs[i*K+j])
			}
			id[first+i] = row
		}
		vals, ids = append(vals, v), append(ids, id)
	}
	return vals, ids, nil
}

// tokenizerJSON is what identifies a tokenizer: its vocabulary and its
// added tokens.
type tokenizerJSON struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Model struct {
		Vocab map[string]int `json:"vocab"`
	} `json:"model"`
}

func readTokenizerJSON(dir string) (*tokenizerJSON, string, error) {
	path := filepath.Join(dir, "tokenizer.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, path, err
	}
	var t tokenizerJSON
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, path, fmt.Errorf("%s: %w", path, err)
	}
	return &t, path, nil
}

// TokenizerHash identifies dir's tokenizer.json by its vocabulary and added
// tokens (not its bytes: formatting does not matter); "" when dir has none.
func TokenizerHash(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	t, _, err := readTokenizerJSON(dir)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	toks := make([]string, 0, len(t.Model.Vocab))
	for s := range t.Model.Vocab {
		toks = append(toks, s)
	}
	sort.Slice(toks, func(i, j int) bool { return t.Model.Vocab[toks[i]] < t.Model.Vocab[toks[j]] })
	h := sha256.New()
	var b [8]byte
	put := func(id int, s string, special bool) {
		binary.LittleEndian.PutUint32(b[:], uint32(id))
		binary.LittleEndian.PutUint32(b[4:], uint32(len(s)))
		if special {
			b[7] |= 0x80
		}
		h.Write(b[:])
		h.Write([]byte(s))
	}
	for _, s := range toks {
		put(t.Model.Vocab[s], s, false)
	}
	for _, a := range t.AddedTokens {
		put(a.ID, a.Content, a.Special)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CheckTokenizers refuses a teacher whose tokenizer differs from the
// student's: the vocabulary sizes in config.json, then (when both have
// tokenizer.json) the added/special tokens and the vocabulary.
func CheckTokenizers(studentDir, teacherDir string) error {
	sc, err := model.ReadConfig(studentDir)
	if err != nil {
		return fmt.Errorf("student %s: %w", studentDir, err)
	}
	tc, err := model.ReadConfig(teacherDir)
	if err != nil {
		return fmt.Errorf("teacher %s: %w", teacherDir, err)
	}
	if sc.VocabSize != tc.VocabSize {
		return fmt.Errorf("teacher and student do not share a vocabulary: vocab_size %d in %s, %d in %s",
			tc.VocabSize, filepath.Join(teacherDir, "config.json"), sc.VocabSize, filepath.Join(studentDir, "config.json"))
	}
	st, sp, serr := readTokenizerJSON(studentDir)
	tt, tp, terr := readTokenizerJSON(teacherDir)
	if errors.Is(serr, os.ErrNotExist) || errors.Is(terr, os.ErrNotExist) {
		return nil // token-id data: the vocabulary size is all there is to check
	}
	if serr != nil {
		return serr
	}
	if terr != nil {
		return terr
	}
	sp2 := map[string]int{}
	for _, a := range st.AddedTokens {
		sp2[a.Content] = a.ID
	}
	for _, a := range tt.AddedTokens {
		if id, ok := sp2[a.Content]; !ok || id != a.ID {
			return fmt.Errorf("teacher and student tokenizers differ: special token %q is %d in %s but %s in %s", a.Content, a.ID, tp, idOrMissing(id, ok), sp)
		}
	}
	if len(st.AddedTokens) != len(tt.AddedTokens) {
		return fmt.Errorf("teacher and student tokenizers differ: %d added tokens in %s, %d in %s", len(tt.AddedTokens), tp, len(st.AddedTokens), sp)
	}
	sh, _ := TokenizerHash(studentDir)
	th, _ := TokenizerHash(teacherDir)
	if sh != th {
		return fmt.Errorf("teacher and student tokenizers differ: %s and %s have different vocabularies", tp, sp)
	}
	return nil
}

func idOrMissing(id int, ok bool) string {
	if !ok {
		return "missing"
	}
	return fmt.Sprint(id)
}

// CheckStore refuses a store made for another tokenizer than the student's.
func CheckStore(s *Store, studentDir string) error {
	sc, err := model.ReadConfig(studentDir)
	if err != nil {
		return fmt.Errorf("student %s: %w", studentDir, err)
	}
	if s.Header.VocabSize > 0 && s.Header.VocabSize != sc.VocabSize {
		return fmt.Errorf("%s was made for a vocabulary of %d (teacher %s), but %s has vocab_size %d",
			s.Path, s.Header.VocabSize, s.Header.Teacher, filepath.Join(studentDir, "config.json"), sc.VocabSize)
	}
	h, err := TokenizerHash(studentDir)
	if err != nil {
		return err
	}
	if h != "" && s.Header.Tokenizer != "" && h != s.Header.Tokenizer {
		return fmt.Errorf("%s was made with another tokenizer (teacher %s, tokenizer %.12s…) than %s (%.12s…)",
			s.Path, s.Header.Teacher, s.Header.Tokenizer, filepath.Join(studentDir, "tokenizer.json"), h)
	}
	return nil
}
