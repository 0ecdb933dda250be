//go:build !unix

package train

import "time"

// processCPU is not measured on this system: epochs report no CPU time.
func processCPU() time.Duration { return 0 }
