package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
)

// Exit codes: the same for every command.
const (
	exitOK    = 0
	exitFail  = 1 // a bad model, a failed check or tolerance, an I/O error
	exitUsage = 2 // a command line that cannot be understood
)

// command is one subcommand of whittle.
type command struct {
	name    string
	args    string // the positional arguments, for the usage line
	summary string
	// help is the long description, with examples, shown by --help.
	help string
	// flags declares the command's flags on fs; run receives the positional arguments.
	setup func(fs *pflag.FlagSet) func(env *env, args []string) error
}

// env is what a running command reads from and writes to.
type env struct {
	// ctx ends when the command is interrupted (SIGINT, SIGTERM); commands that run models
	// pass it on, bounded by --timeout where they have one.
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	// stderrTerminal tells whether progress bars and colour may be drawn.
	stderrTerminal bool
	stdoutTerminal bool
	// jsonOut is set by --json: the command's text summary is not printed, its JSON is.
	jsonOut bool
}

// usageError marks errors in the command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// Main runs whittle with the given arguments and returns the exit code; a model file
// named "-" is read from standard input.
func Main(args []string, stdout, stderr io.Writer) int {
	return mainIO(args, os.Stdin, stdout, stderr)
}

// mainIO is Main with standard input given.
func mainIO(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, stderrTerminal: isTerminal(stderr), stdoutTerminal: isTerminal(stdout)}
	if len(args) == 0 {
		printOverview(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fs := newFlagSet(c, stdout)
				c.setup(fs)
				printHelp(stdout, c, fs)
				return exitOK
			}
		}
		printOverview(stdout)
		return exitOK
	case "version", "--version":
		fmt.Fprintln(stdout, "whittle", whittle.Version())
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "whittle: unknown command %q\n\n", name)
		printOverview(stderr)
		return exitUsage
	}
	fs := newFlagSet(c, stderr)
	run := c.setup(fs)
	applyMemory := memoryFlag(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printHelp(stdout, c, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "whittle %s: %v\nRun 'whittle %s --help' for usage.\n", c.name, err, c.name)
		return exitUsage
	}
	restoreMemory, err := applyMemory()
	if err != nil {
		fmt.Fprintf(stderr, "whittle %s: %v\nRun 'whittle %s --help' for usage.\n", c.name, err, c.name)
		return exitUsage
	}
	defer restoreMemory()
	ctx, stop := signalContext()
	defer stop()
	e.ctx = ctx
	if err := runInterruptible(e, func() error { return run(e, fs.Args()) }); err != nil {
		var ie *interruptError
		if errors.As(context.Cause(ctx), &ie) {
			fmt.Fprintf(stderr, "whittle %s: %v\n", c.name, ie)
			return ie.exitCode()
		}
		var ue usageError
		if errors.As(err, &ue) || errors.Is(err, whittle.ErrOptions) {
			fmt.Fprintf(stderr, "whittle %s: %v\nRun 'whittle %s --help' for usage.\n", c.name, err, c.name)
			return exitUsage
		}
		var ce codeError
		if errors.As(err, &ce) {
			if ce.err != nil {
				fmt.Fprintf(stderr, "whittle %s: %v\n", c.name, ce.err)
			}
			return ce.code
		}
		fmt.Fprintf(stderr, "whittle %s: %v\n", c.name, err)
		return exitFail
	}
	return exitOK
}

// codeError ends a command with a given exit code, after printing err if non-nil.
type codeError struct {
	code int
	err  error
}

func (e codeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func newFlagSet(c *command, out io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("whittle "+c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	_ = out
	return fs
}

func printHelp(w io.Writer, c *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "Usage: whittle %s %s\n\n%s\n", c.name, c.args, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	if fs.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
	}
	fmt.Fprintf(w, "\nExit status: 0 success, 1 bad model or failed check, 2 usage error.\n")
}

func printOverview(w io.Writer) {
	fmt.Fprintf(w, "whittle makes ONNX models smaller and faster, without Python.\n\nUsage: whittle COMMAND [ARGS...]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'whittle help COMMAND' or 'whittle COMMAND --help' for details and examples.\n")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// exactArgs checks the number of positional arguments.
func exactArgs(args []string, n int, what string) error {
	if len(args) != n {
		return usagef("expected %s, got %d argument(s)", what, len(args))
	}
	return nil
}

// loadModel reads and verifies a model; "-" reads standard input.
func loadModel(e *env, path string) (*ir.Model, error) {
	if path == "-" {
		return whittle.Load(e.stdin, whittle.LoadOptions{})
	}
	return whittle.LoadFile(path, whittle.LoadOptions{})
}

// saveModel writes m atomically; "-" writes standard output (data inline). It says what
// it wrote on stderr.
func saveModel(e *env, path string, m *ir.Model, opts whittle.SaveOptions) error {
	if path == "-" {
		if opts.ExternalData {
			return usagef("external data cannot go to standard output")
		}
		return whittle.Save(e.stdout, m)
	}
	releaseGarbage()
	err := whittle.SaveFile(path, m, opts)
	if errors.Is(err, onnx.ErrModelTooLarge) && !opts.ExternalData {
		// Past protobuf's 2 GiB a model can only be written with its weights beside it, as
		// the >2 GiB models whittle reads are: do that rather than fail after the work.
		opts.ExternalData = true
		if err = whittle.SaveFile(path, m, opts); err == nil {
			fmt.Fprintf(e.stderr, "wrote %s, its weights in %s.data (past protobuf's 2 GiB limit, so stored as external data)\n", path, filepath.Base(path))
			return nil
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s\n", path)
	return nil
}

// releaseGarbageBytes is the heap size from which saveModel collects garbage before
// writing.
const releaseGarbageBytes = 256 << 20

// releaseGarbage hands the memory of what a command no longer uses (the float weights
// quantize replaced, say) back to the system before the model is encoded. The collector
// would not run on its own: its next cycle is due when the heap doubles what was live
// after loading, so the encoding would be allocated beside the dead weights. Small heaps
// skip it, the collection costing more than it saves.
func releaseGarbage() {
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	if ms.HeapAlloc >= releaseGarbageBytes {
		debug.FreeOSMemory()
	}
}

// textOut is where a command that writes a model to out prints its report: stdout,
// unless the model itself goes there.
func (e *env) textOut(out string) io.Writer {
	if e.jsonOut {
		return io.Discard
	}
	if out == "-" {
		return e.stderr
	}
	return e.stdout
}

// writeJSONFile writes v as indented JSON to path atomically.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, append(b, '\n')); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
