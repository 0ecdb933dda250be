//go:build unix

package interop

import (
	"syscall"
	"time"
)

// cpuTime is the process's CPU time, all threads: on a shared machine, what a run cost
// rather than how long it waited for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
