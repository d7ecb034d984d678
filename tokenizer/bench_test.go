package tokenizer

import (
	"path/filepath"
	"testing"

	"github.com/star-go/star/internal/fixture"
)

// benchTexts are the rendered prompts of chat_template.jsonl.
func benchTexts(b *testing.B) ([]string, int, int) {
	tok := qwen3(b)
	rows := readJSONL[textIDs](b, "fixtures/qwen3/chat_template.jsonl")
	texts := make([]string, len(rows))
	nb, nt := 0, 0
	for i, r := range rows {
		texts[i] = r.Text
		nb += len(r.Text)
		nt += len(tok.Encode(r.Text))
	}
	return texts, nb, nt
}

// BenchmarkEncode encodes all rendered prompts of chat_template.jsonl on one goroutine.
func BenchmarkEncode(b *testing.B) {
	tok := qwen3(b)
	texts, nb, nt := benchTexts(b)
	b.SetBytes(int64(nb))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, s := range texts {
			tok.Encode(s)
		}
	}
	b.ReportMetric(float64(nt)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkEncodeCold is BenchmarkEncode with the word cache emptied before every pass.
func BenchmarkEncodeCold(b *testing.B) {
	tok := qwen3(b)
	texts, nb, nt := benchTexts(b)
	b.SetBytes(int64(nb))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		tok.cache = wordCache{}
		b.StartTimer()
		for _, s := range texts {
			tok.Encode(s)
		}
	}
	b.ReportMetric(float64(nt)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkEncodeBatch encodes the same texts with EncodeBatch (GOMAXPROCS workers).
func BenchmarkEncodeBatch(b *testing.B) {
	tok := qwen3(b)
	texts, nb, nt := benchTexts(b)
	b.SetBytes(int64(nb))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tok.EncodeBatch(texts)
	}
	b.ReportMetric(float64(nt)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkDecode decodes the ids of all rendered prompts.
func BenchmarkDecode(b *testing.B) {
	tok := qwen3(b)
	rows := readJSONL[textIDs](b, "fixtures/qwen3/chat_template.jsonl")
	nb := 0
	for _, r := range rows {
		nb += len(r.Text)
	}
	b.SetBytes(int64(nb))
	b.ResetTimer()
	for b.Loop() {
		for _, r := range rows {
			tok.Decode(r.IDs)
		}
	}
}

// BenchmarkLoad measures Load of the real Qwen3 tokenizer (151,643 ranks).
func BenchmarkLoad(b *testing.B) {
	qwen3(b) // locate the fixture (fails the benchmark if absent)
	dir := filepath.Dir(fixture.Path(b, "fixtures/qwen3/tokenizer.json"))
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}
