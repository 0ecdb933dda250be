package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// memoryFlag declares --max-memory, which every command has, and returns the function
// that applies it once the flags are parsed: it sets the process-wide budget every tensor
// allocation is weighed against (kernel.SetMemoryBudget) and Go's soft memory limit, so
// that the collector works harder before the budget is reached. Call what it returns to
// restore both.
func memoryFlag(fs *pflag.FlagSet) func() (restore func(), err error) {
	v := fs.String("max-memory", "", "memory budget `SIZE`: bytes with a unit (512MiB, 8GiB) or a percentage of physical memory (50%); a model run that would pass it fails with an error naming the node and shape (default 75% of physical memory)")
	return func() (func(), error) {
		if *v == "" {
			return func() {}, nil
		}
		n, err := parseSize(*v)
		if err != nil {
			return nil, usagef("--max-memory %q: %v", *v, err)
		}
		prevBudget := kernel.SetMemoryBudget(n)
		prevLimit := debug.SetMemoryLimit(n)
		return func() {
			kernel.SetMemoryBudget(prevBudget)
			debug.SetMemoryLimit(prevLimit)
		}, nil
	}
}

// parseSize reads a byte count: a number with an optional unit (B, K/KB/KiB, M/MB/MiB,
// G/GB/GiB, T/TB/TiB; all binary), or a percentage of the default budget's base, physical
// memory.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		p, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || p <= 0 || p > 100 {
			return 0, errors.New("a percentage must be in (0, 100]")
		}
		// DefaultMemoryBudget is three quarters of what the process may use.
		return int64(float64(kernel.DefaultMemoryBudget()) / 0.75 * p / 100), nil
	}
	num := strings.TrimRight(s, "aBbGgIiKkMmTt")
	unit := strings.ToLower(strings.TrimSpace(s[len(num):]))
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "b"), "i")
	scale := map[string]float64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[unit]
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || scale == 0 || f <= 0 || f*scale > math.MaxInt64/2 {
		return 0, errors.New("want a positive size such as 512MiB, 8GiB or 50%")
	}
	return int64(f * scale), nil
}

// timeoutFlag declares --timeout on a command that runs models (run, eval, quantize's
// calibration) and returns the function that bounds a context by it.
func timeoutFlag(fs *pflag.FlagSet) func(ctx context.Context) (context.Context, context.CancelFunc) {
	d := fs.Duration("timeout", 0, "stop with an error when the model runs take longer than `DURATION` (e.g. 30s, 5m; default no limit)")
	return func(ctx context.Context) (context.Context, context.CancelFunc) {
		if *d <= 0 {
			return context.WithCancel(ctx)
		}
		return context.WithTimeoutCause(ctx, *d, &timeoutError{*d})
	}
}

// timeoutError is the cause of a context that --timeout ended.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("stopped: --timeout %s ran out", e.d) }

// interruptError is the cause of a context that a signal ended.
type interruptError struct{ sig os.Signal }

func (e *interruptError) Error() string { return fmt.Sprintf("interrupted by %s", e.sig) }

// exitCode is the conventional status of a process ended by the signal: 128 + its number.
func (e *interruptError) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitFail
}

// signalContext returns a context cancelled, with an *interruptError as its cause, by the
// first SIGINT or SIGTERM; stop releases the signals.
func signalContext() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			cancel(&interruptError{sig})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// stopCause explains an error that a cancelled context caused: the timeout or the signal
// that ended ctx, or nil when err has another reason.
func stopCause(ctx context.Context, err error) error {
	if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return context.Cause(ctx)
}

// interruptGrace is how long a command may take to stop after SIGINT or SIGTERM before
// the process exits anyway. Commands that run models stop at the next node; others (a
// pass pipeline, a write) may not look at the context at all.
const interruptGrace = 500 * time.Millisecond

// runInterruptible runs a command, and after an interrupt waits interruptGrace for it to
// return. If it does not, the temporary files of unfinished writes are removed (a model
// and data file being renamed together finish first) and the process exits with the
// signal's status: never a partial output, never a temporary file left behind.
func runInterruptible(e *env, command func() error) error {
	done := make(chan error, 1)
	go func() { done <- command() }()
	select {
	case err := <-done:
		return err
	case <-e.ctx.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(interruptGrace):
	}
	removed := onnx.AbortPendingWrites()
	var ie *interruptError
	if !errors.As(context.Cause(e.ctx), &ie) {
		ie = &interruptError{sig: os.Interrupt}
	}
	fmt.Fprintf(e.stderr, "whittle: %v; stopped", ie)
	if len(removed) > 0 {
		fmt.Fprintf(e.stderr, " (removed %d unfinished output files)", len(removed))
	}
	fmt.Fprintln(e.stderr)
	os.Exit(ie.exitCode())
	return nil
}
