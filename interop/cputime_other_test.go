//go:build !unix

package interop

import "time"

// cpuTime is not measured here: the CPU-time lines report zeros.
func cpuTime() time.Duration { return 0 }
