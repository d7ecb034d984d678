package train

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"sort"
)

// The teacher's top-k store: for every record, at every target position,
// the teacher's k most likely tokens as (int32 id, float16 log-prob). A
// binary file, little-endian:
//
//	"STARTOPK" u32 version u32 headerLen  header JSON (StoreHeader)
//	records, each:
//	    u64 key  u32 n  u32 first  u16 idLen  id
//	    n·k int32 ids  n·k float16 log-probs  u32 CRC-32C of the record so far
//	index: count × (u64 key, u64 offset), sorted by key
//	footer: u64 indexOffset  u64 count  "STARTOPK"
//
// key is SeqKey of the record's untruncated prompt and target ids; first is
// the row (position − 1) of the first target token, n the number of target
// positions stored. While written, the file is STORE.partial without index
// and footer; an interrupted run resumes by scanning its complete records.
// Size: 6·k bytes per target token (600 B at k = 100) plus ~20 B per record.

const (
	storeMagic   = "STARTOPK"
	storeVersion = 1
	footerSize   = 24
)

// StoreHeader describes a store.
type StoreHeader struct {
	Teacher   string `json:"teacher"` // the teacher's directory or served model name
	K         int    `json:"k"`
	VocabSize int    `json:"vocab_size"`
	// Tokenizer is TokenizerHash of the teacher's tokenizer ("" when the
	// teacher directory had none).
	Tokenizer  string `json:"tokenizer_sha256"`
	ValueDType string `json:"value_dtype"` // "f16"
	Data       string `json:"data"`
	DataSHA256 string `json:"data_sha256"`
	MaxLen     int    `json:"max_len"`
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// StoreRecord is one record's top-k rows.
type StoreRecord struct {
	Key   uint64
	ID    string
	First int // row of the first target position
	// IDs[i*K+j], Vals[i*K+j]: the j-th best token at target position i.
	IDs  []int32
	Vals []float32
}

// N is the number of stored positions.
func (r *StoreRecord) N(k int) int { return len(r.IDs) / k }

func encodeRecord(buf []byte, r *StoreRecord, k int) []byte {
	n := len(r.IDs) / k
	buf = binary.LittleEndian.AppendUint64(buf[:0], r.Key)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(n))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(r.First))
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(r.ID)))
	buf = append(buf, r.ID...)
	for _, id := range r.IDs {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(id))
	}
	for _, v := range r.Vals {
		buf = binary.LittleEndian.AppendUint16(buf, float16(v))
	}
	return binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf, crcTable))
}

// readRecord reads one record; io.ErrUnexpectedEOF or a CRC error means a
// torn or corrupt record.
func readRecord(r io.Reader, k int) (*StoreRecord, int, error) {
	var head [18]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, 0, err
	}
	n := int(binary.LittleEndian.Uint32(head[8:]))
	idLen := int(binary.LittleEndian.Uint16(head[16:]))
	if n > 1<<24 {
		return nil, 0, fmt.Errorf("record with %d positions: corrupt", n)
	}
	body := make([]byte, idLen+n*k*6+4)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, 0, err
	}
	crc := crc32.Update(crc32.Checksum(head[:], crcTable), crcTable, body[:len(body)-4])
	if crc != binary.LittleEndian.Uint32(body[len(body)-4:]) {
		return nil, 0, errors.New("record checksum mismatch")
	}
	rec := &StoreRecord{Key: binary.LittleEndian.Uint64(head[:]), First: int(binary.LittleEndian.Uint32(head[12:])),
		ID: string(body[:idLen]), IDs: make([]int32, n*k), Vals: make([]float32, n*k)}
	p := body[idLen:]
	for i := range rec.IDs {
		rec.IDs[i] = int32(binary.LittleEndian.Uint32(p[4*i:]))
	}
	p = p[4*n*k:]
	for i := range rec.Vals {
		rec.Vals[i] = float32From16(binary.LittleEndian.Uint16(p[2*i:]))
	}
	return rec, len(head) + len(body), nil
}

func writeHeader(w io.Writer, h StoreHeader) (int, error) {
	js, err := json.Marshal(h)
	if err != nil {
		return 0, err
	}
	b := append([]byte(storeMagic), 0, 0, 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[8:], storeVersion)
	binary.LittleEndian.PutUint32(b[12:], uint32(len(js)))
	b = append(b, js...)
	_, err = w.Write(b)
	return len(b), err
}

func readHeader(r io.Reader, path string) (StoreHeader, int, error) {
	var h StoreHeader
	var pre [16]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil || string(pre[:8]) != storeMagic {
		return h, 0, fmt.Errorf("%s: not a top-k store (no %s header)", path, storeMagic)
	}
	if v := binary.LittleEndian.Uint32(pre[8:]); v != storeVersion {
		return h, 0, fmt.Errorf("%s: store version %d, this build reads %d", path, v, storeVersion)
	}
	n := binary.LittleEndian.Uint32(pre[12:])
	if n > 1<<20 {
		return h, 0, fmt.Errorf("%s: corrupt header", path)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return h, 0, fmt.Errorf("%s: header: %w", path, err)
	}
	if err := json.Unmarshal(js, &h); err != nil {
		return h, 0, fmt.Errorf("%s: header: %w", path, err)
	}
	if h.K <= 0 {
		return h, 0, fmt.Errorf("%s: header k = %d", path, h.K)
	}
	return h, 16 + int(n), nil
}

// StoreWriter writes a store through PATH.partial, resuming one that an
// interrupted run left.
type StoreWriter struct {
	path   string
	h      StoreHeader
	f      *os.File
	w      *bufio.Writer
	off    int64
	index  map[uint64]int64
	buf    []byte
	closed bool
}

// CreateStore starts (or resumes) writing path. A partial file with another
// header (teacher, k, tokenizer, data) is refused rather than mixed.
func CreateStore(path string, h StoreHeader) (*StoreWriter, error) {
	h.ValueDType = "f16"
	partial := path + ".partial"
	sw := &StoreWriter{path: path, h: h, index: map[uint64]int64{}}
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.Size() == 0 {
		n, err := writeHeader(f, h)
		if err != nil {
			f.Close()
			return nil, err
		}
		sw.off = int64(n)
	} else {
		old, n, err := readHeader(f, partial)
		if err != nil {
			f.Close()
			return nil, err
		}
		old.ValueDType = h.ValueDType
		if old != h {
			f.Close()
			return nil, fmt.Errorf("%s was started with other settings (%+v, now %+v): remove it to start over", partial, old, h)
		}
		off := int64(n)
		br := bufio.NewReaderSize(f, 1<<20)
		for {
			rec, size, err := readRecord(br, h.K)
			if err != nil {
				break // the end, or a record torn by the interruption: dropped
			}
			sw.index[rec.Key] = off
			off += int64(size)
		}
		if err := f.Truncate(off); err != nil {
			f.Close()
			return nil, err
		}
		sw.off = off
	}
	if _, err := f.Seek(sw.off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	sw.f, sw.w = f, bufio.NewWriterSize(f, 1<<20)
	return sw, nil
}

// Has reports whether a record with this key is already written.
func (sw *StoreWriter) Has(key uint64) bool { _, ok := sw.index[key]; return ok }

// Len is the number of records written.
func (sw *StoreWriter) Len() int { return len(sw.index) }

// Add appends a record (a key already present is skipped: the same tokens
// give the same rows).
func (sw *StoreWriter) Add(r *StoreRecord) error {
	if sw.Has(r.Key) {
		return nil
	}
	if len(r.IDs) != len(r.Vals) || len(r.IDs)%sw.h.K != 0 {
		return fmt.Errorf("store record %s: %d ids, %d values for k = %d", r.ID, len(r.IDs), len(r.Vals), sw.h.K)
	}
	if len(r.ID) > math.MaxUint16 {
		r.ID = r.ID[:math.MaxUint16]
	}
	sw.buf = encodeRecord(sw.buf, r, sw.h.K)
	if _, err := sw.w.Write(sw.buf); err != nil {
		return err
	}
	sw.index[r.Key] = sw.off
	sw.off += int64(len(sw.buf))
	return nil
}

// Flush makes the records written so far durable (an interrupted run keeps them).
func (sw *StoreWriter) Flush() error {
	if err := sw.w.Flush(); err != nil {
		return err
	}
	return sw.f.Sync()
}

// Close writes the index and footer and renames the file into place.
func (sw *StoreWriter) Close() error {
	if sw.closed {
		return nil
	}
	sw.closed = true
	keys := make([]uint64, 0, len(sw.index))
	for k := range sw.index {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	indexOff := sw.off
	var b [16]byte
	for _, k := range keys {
		binary.LittleEndian.PutUint64(b[:], k)
		binary.LittleEndian.PutUint64(b[8:], uint64(sw.index[k]))
		if _, err := sw.w.Write(b[:]); err != nil {
			return sw.fail(err)
		}
	}
	binary.LittleEndian.PutUint64(b[:], uint64(indexOff))
	binary.LittleEndian.PutUint64(b[8:], uint64(len(keys)))
	sw.w.Write(b[:])
	if _, err := sw.w.Write([]byte(storeMagic)); err != nil {
		return sw.fail(err)
	}
	if err := sw.Flush(); err != nil {
		return sw.fail(err)
	}
	if err := sw.f.Close(); err != nil {
		return err
	}
	return os.Rename(sw.path+".partial", sw.path)
}

// Abort stops writing and keeps PATH.partial for a later resume.
func (sw *StoreWriter) Abort() error {
	if sw.closed {
		return nil
	}
	sw.closed = true
	err := sw.Flush()
	if cerr := sw.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (sw *StoreWriter) fail(err error) error {
	sw.f.Close()
	return err
}

// Store reads a finished store with random access by key.
type Store struct {
	Path   string
	Header StoreHeader
	f      *os.File
	keys   []uint64
	offs   []int64
}

// OpenStore opens a store and reads its index.
func OpenStore(path string) (*Store, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && fileExists(path+".partial") {
			return nil, fmt.Errorf("%s: not finished (%s.partial exists: rerun `star teacher topk` to complete it)", path, path)
		}
		return nil, err
	}
	s := &Store{Path: path, f: f}
	if s.Header, _, err = readHeader(f, path); err != nil {
		f.Close()
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	var foot [footerSize]byte
	if st.Size() < footerSize {
		f.Close()
		return nil, fmt.Errorf("%s: truncated (no footer)", path)
	}
	if _, err := f.ReadAt(foot[:], st.Size()-footerSize); err != nil || string(foot[16:]) != storeMagic {
		f.Close()
		return nil, fmt.Errorf("%s: truncated or corrupt (no footer)", path)
	}
	indexOff := int64(binary.LittleEndian.Uint64(foot[:]))
	count := int64(binary.LittleEndian.Uint64(foot[8:]))
	if indexOff < 0 || indexOff+16*count != st.Size()-footerSize {
		f.Close()
		return nil, fmt.Errorf("%s: corrupt index (offset %d, %d records, size %d)", path, indexOff, count, st.Size())
	}
	idx := make([]byte, 16*count)
	if _, err := f.ReadAt(idx, indexOff); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: index: %w", path, err)
	}
	s.keys, s.offs = make([]uint64, count), make([]int64, count)
	for i := range count {
		s.keys[i] = binary.LittleEndian.Uint64(idx[16*i:])
		s.offs[i] = int64(binary.LittleEndian.Uint64(idx[16*i+8:]))
	}
	return s, nil
}

// Len is the number of records.
func (s *Store) Len() int { return len(s.keys) }

// Get reads the record with this key (nil, nil when absent).
func (s *Store) Get(key uint64) (*StoreRecord, error) {
	i := sort.Search(len(s.keys), func(i int) bool { return s.keys[i] >= key })
	if i == len(s.keys) || s.keys[i] != key {
		return nil, nil
	}
	end := int64(math.MaxInt64)
	r := io.NewSectionReader(s.f, s.offs[i], end-s.offs[i])
	rec, _, err := readRecord(bufio.NewReader(r), s.Header.K)
	if err != nil {
		return nil, fmt.Errorf("%s: record at offset %d: %w", s.Path, s.offs[i], err)
	}
	return rec, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.f.Close() }

// float16 rounds a float32 to the nearest IEEE half (ties to even);
// overflow gives ±Inf, NaN stays NaN.
func float16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf, NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp-127 > 15:
		return sign | 0x7c00
	case exp-127 >= -14: // normal half
		e := uint32(exp - 127 + 15)
		m := mant >> 13
		rest := mant & 0x1fff
		h := e<<10 | m
		if rest > 0x1000 || (rest == 0x1000 && m&1 == 1) {
			h++ // may carry into the exponent, up to Inf: correct
		}
		return sign | uint16(h)
	case exp-127 >= -25: // subnormal half
		m := mant | 0x800000
		shift := uint(-14-(exp-127)) + 13
		h := m >> shift
		rest := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rest > half || (rest == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	default:
		return sign
	}
}

// float32From16 widens an IEEE half.
func float32From16(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		v := float32(mant) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	default:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	}
}
