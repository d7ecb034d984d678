package tokenizer

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// byteToRune is GPT-2's reversible byte → printable-rune mapping used by
// the ByteLevel pre-tokenizer and decoder.
var byteToRune [256]rune

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
	}
}

// byteLevel maps raw bytes to their ByteLevel string form (a vocab token).
func byteLevel(s string) string {
	var sb strings.Builder
	sb.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		sb.WriteRune(byteToRune[s[i]])
	}
	return sb.String()
}

// unByteLevel maps a ByteLevel token back to raw bytes; ok is false if a
// rune is outside the mapping.
func unByteLevel(tok string, runeToByte map[rune]byte) ([]byte, bool) {
	out := make([]byte, 0, len(tok))
	for _, r := range tok {
		b, ok := runeToByte[r]
		if !ok {
			return nil, false
		}
		out = append(out, b)
	}
	return out, true
}

// merge is the result of merging a pair: its rank and the new token id.
type merge struct {
	rank int32
	id   int32
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// bpeModel holds the merge table and runs the BPE merge loop.
type bpeModel struct {
	byteID [256]int32 // id of the single-byte token for each byte
	merges map[uint64]merge
	// ignoreMerges: a word that is itself in the vocab is emitted directly.
	ignoreMerges bool
	vocab        map[string]int32 // raw-byte key → id; only when ignoreMerges
}

// workspace is per-call scratch memory.
type workspace struct {
	ids   []int32
	ranks []int32
	heap  []heapItem
	prev  []int32
	next  []int32
}

var workspacePool = sync.Pool{New: func() any { return new(workspace) }}

const noRank = int32(1<<31 - 1)

// smallWord is the length up to which the simple O(n²) merge loop is used.
const smallWord = 48

// encodeWord appends the BPE ids of raw-byte word w to out.
func (m *bpeModel) encodeWord(w string, ws *workspace, out []int) []int {
	if m.ignoreMerges {
		if id, ok := m.vocab[w]; ok {
			return append(out, int(id))
		}
	}
	ids := ws.ids[:0]
	for i := 0; i < len(w); i++ {
		ids = append(ids, m.byteID[w[i]])
	}
	if len(ids) <= smallWord {
		ids = m.mergeSmall(ids, ws)
	} else {
		ids = m.mergeLarge(ids, ws)
	}
	ws.ids = ids
	for _, id := range ids {
		out = append(out, int(id))
	}
	return out
}

func (m *bpeModel) rankOf(a, b int32) merge {
	if mg, ok := m.merges[pairKey(a, b)]; ok {
		return mg
	}
	return merge{rank: noRank, id: -1}
}

// mergeSmall repeatedly merges the leftmost lowest-rank pair.
func (m *bpeModel) mergeSmall(ids []int32, ws *workspace) []int32 {
	n := len(ids)
	if n < 2 {
		return ids
	}
	ranks := ws.ranks[:0]
	merged := ws.prev[:0] // merged id of each pair
	for i := 0; i+1 < n; i++ {
		mg := m.rankOf(ids[i], ids[i+1])
		ranks = append(ranks, mg.rank)
		merged = append(merged, mg.id)
	}
	for {
		best, bi := noRank, -1
		for i, r := range ranks {
			if r < best {
				best, bi = r, i
			}
		}
		if bi < 0 {
			break
		}
		ids[bi] = merged[bi]
		copy(ids[bi+1:], ids[bi+2:])
		ids = ids[:len(ids)-1]
		copy(ranks[bi:], ranks[bi+1:])
		ranks = ranks[:len(ranks)-1]
		copy(merged[bi:], merged[bi+1:])
		merged = merged[:len(merged)-1]
		if bi > 0 {
			mg := m.rankOf(ids[bi-1], ids[bi])
			ranks[bi-1], merged[bi-1] = mg.rank, mg.id
		}
		if bi < len(ranks) {
			mg := m.rankOf(ids[bi], ids[bi+1])
			ranks[bi], merged[bi] = mg.rank, mg.id
		}
	}
	ws.ranks, ws.prev = ranks, merged
	return ids
}

// heapItem is a candidate merge of the symbol at pos with its successor.
type heapItem struct {
	rank int32
	pos  int32
	left int32 // id at pos when queued (stale check)
	rght int32 // id of the successor when queued
	id   int32 // merged id
}

func heapLess(a, b heapItem) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

func heapPush(h []heapItem, x heapItem) []heapItem {
	h = append(h, x)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !heapLess(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []heapItem) (heapItem, []heapItem) {
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		c := l
		if r := l + 1; r < len(h) && heapLess(h[r], h[l]) {
			c = r
		}
		if !heapLess(h[c], h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	return top, h
}

// mergeLarge is the O(n log n) merge loop (linked list + heap) for long words.
// It merges in the same order as mergeSmall: lowest rank, then leftmost.
func (m *bpeModel) mergeLarge(ids []int32, ws *workspace) []int32 {
	n := len(ids)
	prev, next := ws.prev[:0], ws.next[:0]
	for i := 0; i < n; i++ {
		prev = append(prev, int32(i-1))
		next = append(next, int32(i+1))
	}
	h := ws.heap[:0]
	for i := 0; i+1 < n; i++ {
		if mg := m.rankOf(ids[i], ids[i+1]); mg.id >= 0 {
			h = heapPush(h, heapItem{rank: mg.rank, pos: int32(i), left: ids[i], rght: ids[i+1], id: mg.id})
		}
	}
	const dead = -1
	for len(h) > 0 {
		var it heapItem
		it, h = heapPop(h)
		p := it.pos
		if ids[p] == dead || ids[p] != it.left {
			continue
		}
		q := next[p]
		if int(q) >= n || ids[q] != it.rght {
			continue
		}
		ids[p] = it.id
		ids[q] = dead
		nq := next[q]
		next[p] = nq
		if int(nq) < n {
			prev[nq] = p
		}
		if pp := prev[p]; pp >= 0 {
			if mg := m.rankOf(ids[pp], ids[p]); mg.id >= 0 {
				h = heapPush(h, heapItem{rank: mg.rank, pos: pp, left: ids[pp], rght: ids[p], id: mg.id})
			}
		}
		if int(nq) < n {
			if mg := m.rankOf(ids[p], ids[nq]); mg.id >= 0 {
				h = heapPush(h, heapItem{rank: mg.rank, pos: p, left: ids[p], rght: ids[nq], id: mg.id})
			}
		}
	}
	out := ids[:0]
	for i := 0; i < n; i++ {
		if ids[i] != dead {
			out = append(out, ids[i])
		}
	}
	ws.prev, ws.next, ws.heap = prev, next, h
	return out
}

// wordCache is a bounded, sharded, concurrency-safe cache word → ids.
type wordCache struct {
	shards [cacheShards]cacheShard
}

const (
	cacheShards   = 64
	cacheShardCap = 4096 // entries per shard; a full shard is cleared
	cacheMaxWord  = 64   // longer words are not cached
)

type cacheShard struct {
	mu sync.RWMutex
	m  map[string][]int32
	_  [24]byte // keep shards on separate cache lines
}

func shardOf(w string) int {
	h := uint(len(w))*0x9E37 ^ uint(w[0])*31 ^ uint(w[len(w)-1])*0x45D9F3B
	if len(w) > 2 {
		h ^= uint(w[len(w)/2]) * 0x27D4EB2D
	}
	return int(h>>3^h) & (cacheShards - 1)
}

func (c *wordCache) get(w string) ([]int32, bool) {
	s := &c.shards[shardOf(w)]
	s.mu.RLock()
	ids, ok := s.m[w]
	s.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(w string, ids []int32) {
	s := &c.shards[shardOf(w)]
	s.mu.Lock()
	if s.m == nil || len(s.m) >= cacheShardCap {
		s.m = make(map[string][]int32, 256)
	}
	s.m[strings.Clone(w)] = ids
	s.mu.Unlock()
}

// lossyUTF8 converts b to a string, replacing each maximal invalid subpart
// with U+FFFD exactly as Rust's String::from_utf8_lossy does.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		r, w := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || w > 1 {
			sb.Write(b[i : i+w])
			i += w
			continue
		}
		sb.WriteString("\uFFFD")
		i += maximalSubpart(b[i:])
	}
	return sb.String()
}

// maximalSubpart returns the length (≥1) of the maximal prefix of b that is
// a prefix of some valid UTF-8 sequence (b[0] starts an invalid sequence).
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	i := 1
	for k := 0; k < need && i < len(b); k++ {
		x := b[i]
		if k > 0 {
			lo, hi = 0x80, 0xBF
		}
		if x < lo || x > hi {
			break
		}
		i++
	}
	return i
}
