package main

import (
	goruntime "runtime"

	"github.com/spf13/pflag"
)

// threadsFlag declares --threads on a command that runs models and returns the function
// that applies it: it bounds the process's parallelism (GOMAXPROCS), which every runtime
// session follows by default (runtime.Options.Threads), so model runs made by library code
// the command calls (calibration, evaluation, comparison) honour it too. Call the result
// once the flags are parsed and defer what it returns.
func threadsFlag(fs *pflag.FlagSet) func() (restore func()) {
	n := fs.Int("threads", 0, "goroutines a model run may use, `N` >= 1 (default: every core)")
	return func() func() {
		if *n <= 0 {
			return func() {}
		}
		prev := goruntime.GOMAXPROCS(*n)
		return func() { goruntime.GOMAXPROCS(prev) }
	}
}
