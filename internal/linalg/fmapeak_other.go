//go:build !amd64 || noasm

package linalg

import "time"

// FMAPeak reports no vector unit in builds without assembly.
func FMAPeak(d time.Duration) (gflops float64, unit string) { return 0, "none" }

// FMAScaling reports nothing in builds without assembly.
func FMAScaling(threads int, d time.Duration) float64 { return 0 }
