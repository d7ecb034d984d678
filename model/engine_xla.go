//go:build xla

package model

// Built with -tags xla, the XLA (PJRT) backend is compiled in and selected
// with STAR_BACKEND=xla:cuda (or --backend xla:cuda). It needs
// `go get github.com/gomlx/go-xla/compute/xla@v0.4.2` (same gomlx/compute line) and a
// PJRT plugin installed by the user; see docs/model.md.

import "github.com/gomlx/go-xla/compute/xla"

func init() {
	// Never download plugins at run time: go-xla would otherwise fetch a
	// PJRT plugin from the network when none is found.
	xla.EnableAutoInstall(false)
}
