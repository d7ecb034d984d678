// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package gobackend

import (
	"sync"
	"sync/atomic"

	"github.com/gomlx/compute/support/envutil"
)

// bufferFreeList replaces the sync.Pool upstream keeps per buffer size. A
// sync.Pool drops its items at every other garbage collection, and the
// outputs of an execution were never pooled at all (Buffer.Finalize dropped
// them), so a training step kept allocating fresh memory: zeroed by the
// runtime, page-faulted in by the kernel (about 12 µs per 4 KiB page in a
// VM), and scavenged back to the OS soon after. On a 100M-parameter model that
// was a third of the step's CPU time. A free list keeps buffers until the
// backend is finalized, up to a bound on the bytes held
// (GOMLX_BUFFER_POOL_MAX_MB, default 8192); past it, returned buffers are
// left to the collector.
type bufferFreeList struct {
	mu       sync.Mutex
	bufs     []*Buffer
	retained *atomic.Int64 // bytes held by all of the backend's free lists
}

var maxPooledBytes = func() int64 {
	mb, err := envutil.ReadInt("GOMLX_BUFFER_POOL_MAX_MB", 8192)
	if err != nil {
		panic(err)
	}
	return int64(mb) << 20
}()

// Get returns a pooled buffer, or nil.
func (l *bufferFreeList) Get() any {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.bufs)
	if n == 0 {
		return nil
	}
	buf := l.bufs[n-1]
	l.bufs[n-1] = nil
	l.bufs = l.bufs[:n-1]
	l.retained.Add(-int64(len(buf.RawBytes)))
	return buf
}

// Put keeps buf for reuse unless the pools already hold the bound.
func (l *bufferFreeList) Put(buf *Buffer) {
	size := int64(len(buf.RawBytes))
	if l.retained.Add(size) > maxPooledBytes {
		l.retained.Add(-size)
		return
	}
	l.mu.Lock()
	l.bufs = append(l.bufs, buf)
	l.mu.Unlock()
}
