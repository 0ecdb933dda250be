//go:build unix

package train

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time the process has used so far, every thread counted.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
