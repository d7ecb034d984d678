package train

import (
	"context"
	"fmt"
	"io"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/progress"
	"github.com/star-go/star/model"
)

// HeldOut is a model's loss on a data file (`star eval loss`).
type HeldOut struct {
	// Loss is the mean cross-entropy per target token, in nats: how much
	// probability the model gives the reference answers, a smooth measure
	// of learning that moves long before exact-match accuracy does.
	Loss                  float64
	Records, TargetTokens int
	Rejected, Truncated   int
}

// EvalLoss is the SFT loss (mean cross-entropy per target token) of m,
// loaded from modelDir, on the records of path ({id, inputs, targets}, read
// with modelDir's tokenizer, or {id, input_ids, target_ids}), in
// micro-batches of at most budget padded tokens. Unusable records go to
// rejects (nil: dropped and counted). Progress goes to log (nil: none).
func EvalLoss(ctx context.Context, m *model.Model, modelDir, path string, maxLen, budget int, rejects *jsonl.Rejects, log io.Writer) (HeldOut, error) {
	set, st, err := ReadExamples(path, DataOptions{ModelDir: modelDir, Vocab: m.Config.VocabSize, MaxLen: maxLen}, rejects)
	if err != nil {
		return HeldOut{}, err
	}
	if len(set) == 0 {
		return HeldOut{}, fmt.Errorf("%s: no usable records (%d rejected)", path, st.Rejected)
	}
	var done func(int)
	if log != nil {
		bar := progress.NewWriter(log, "eval loss", int64(len(set)), "rec")
		defer bar.Finish()
		done = func(n int) { bar.Add(int64(n)) }
	}
	loss, err := evaluate(ctx, m, SFT{}, set, budget, done)
	if err != nil {
		return HeldOut{}, fmt.Errorf("%s: %w", path, err)
	}
	return HeldOut{Loss: loss, Records: len(set), TargetTokens: int(st.TargetTokens),
		Rejected: st.Rejected, Truncated: st.Truncated}, nil
}
