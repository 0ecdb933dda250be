//go:build unix

package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whittle-ml/whittle/internal/hostile"
)

var hostileDoc = flag.Bool("hostile-doc", false, "rewrite the hostile-input table in docs/hardening.md from this run")

// process is one finished whittle process.
type process struct {
	code           int
	stdout, stderr string
	peakKB         int64 // maximum resident set size, as /usr/bin/time -f %M reports it
	took           time.Duration
	timedOut       bool
}

// whittleProcess runs whittle as a separate process: the binary $WHITTLE_BIN when set
// (the table in docs/hardening.md is measured on a built whittle), otherwise this test
// binary, which runs Main when WHITTLE_TEST_MAIN is set.
func whittleProcess(t *testing.T, limit time.Duration, args ...string) process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	bin := os.Getenv("WHITTLE_BIN")
	if bin == "" {
		bin = os.Args[0]
	}
	// The rusage of a process Go starts counts the parent's resident memory at the exec
	// (the child borrows the parent's address space until then), so the peak is measured by
	// GNU time, which forks a small process of its own.
	timeFile := filepath.Join(t.TempDir(), "time")
	_, statErr := os.Stat("/usr/bin/time")
	useTime := statErr == nil
	var cmd *exec.Cmd
	if useTime {
		cmd = exec.CommandContext(ctx, "/usr/bin/time", append([]string{"-f", "%M", "-o", timeFile, bin}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	cmd.Env = append(os.Environ(), "WHITTLE_TEST_MAIN=1")
	// A hung whittle is killed with its parent (time): the whole process group goes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	p := process{code: -1, stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start), timedOut: ctx.Err() != nil}
	if cmd.ProcessState == nil {
		t.Fatalf("whittle %s: %v", strings.Join(args, " "), err)
	}
	p.code = cmd.ProcessState.ExitCode()
	if useTime {
		// "Command exited with non-zero status N" may come first; %M is the last line.
		b, _ := os.ReadFile(timeFile)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		p.peakKB, _ = strconv.ParseInt(lines[len(lines)-1], 10, 64)
		if strings.Contains(string(b), "terminated by signal") {
			p.stderr += string(b)
		}
	} else if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.peakKB = ru.Maxrss // an upper bound: see above
	}
	return p
}

// crashed reports a Go panic or fatal error in a process's output.
func crashed(p process) bool {
	out := p.stdout + p.stderr
	for _, s := range []string{"panic:", "fatal error:", "goroutine ", "runtime error", "[signal ", "terminated by signal"} {
		if strings.Contains(out, s) {
			return true
		}
	}
	return false
}

// writesOutput lists the commands given an output path, and the flag that takes it.
var writesOutput = map[string]string{"optimize": "-o", "quantize": "-o", "prune": "-o", "convert": "-o", "run": "--output-dir"}

// hostileRow is one line of the table in docs/hardening.md.
type hostileRow struct {
	c            hostile.Case
	p            process
	dir, outside string // the case's folders, left out of the table
}

// TestHostileInputs runs the whittle command line, as a real process, on every input of
// internal/hostile.Cases: each must end with exit status 1 and an error naming what is at
// fault, within a minute, never with a panic or a Go fatal error, and leave no output and
// no temporary file behind. Each model also goes through check, inspect, optimize, run,
// convert, diff (against itself), quantize --dynamic and prune, which may accept it (exit
// 0) but must not crash or write half a file. With -hostile-doc the table of
// docs/hardening.md (error, exit status and peak memory of each case) is rewritten from
// the run.
func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process per case")
	}
	var rows []hostileRow
	for _, c := range hostile.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			dir, outside := t.TempDir(), t.TempDir()
			if err := c.Write(dir, outside); err != nil {
				t.Fatal(err)
			}
			model := filepath.Join(dir, hostile.ModelFile)
			p := hostileRun(t, dir, model, c.Command, c.Flags)
			rows = append(rows, hostileRow{c, p, dir, outside})
			t.Logf("whittle %s: exit %d, %.1f MB, %s\n%s%s", c.Command, p.code, float64(p.peakKB)/1024, p.took.Round(time.Millisecond), p.stdout, p.stderr)
			want := exitFail
			if c.Accepted {
				want = exitOK
			}
			if p.code != want || !strings.Contains(p.stdout+p.stderr, c.Want) {
				t.Errorf("whittle %s: exit %d, output %q; want exit %d and output saying %q", c.Command, p.code, p.stdout+p.stderr, want, c.Want)
			}
			for _, other := range []struct {
				cmd   string
				flags []string
			}{{"check", nil}, {"inspect", nil}, {"optimize", nil}, {"run", []string{"--random", "--timeout", "2s", "--max-memory", "1GiB"}},
				{"convert", nil}, {"diff", []string{model}}, {"quantize", []string{"--dynamic"}}, {"prune", []string{"--sparsity", "0.5"}}} {
				if other.cmd == c.Command {
					continue
				}
				p := hostileRun(t, dir, model, other.cmd, other.flags)
				t.Logf("also whittle %s: exit %d, %.1f MB\n%s%s", other.cmd, p.code, float64(p.peakKB)/1024, p.stdout, p.stderr)
				if p.code != exitOK && p.code != exitFail {
					t.Errorf("whittle %s: exit %d, stderr %q", other.cmd, p.code, p.stderr)
				}
			}
		})
	}
	if *hostileDoc && !t.Failed() {
		if err := writeHostileTable(filepath.Join("..", "..", "docs", "hardening.md"), rows); err != nil {
			t.Fatal(err)
		}
	}
}

// hostileRun runs one command on model and checks what must hold whatever the exit status:
// no crash, no hang, and on failure no output and no temporary file left in dir.
func hostileRun(t *testing.T, dir, model, command string, flags []string) process {
	t.Helper()
	out := filepath.Join(dir, "out-"+command)
	args := append([]string{command, model}, flags...)
	if f, ok := writesOutput[command]; ok {
		if command != "run" {
			out += ".onnx"
		}
		args = append(args, f, out)
	}
	p := whittleProcess(t, time.Minute, args...)
	switch {
	case p.timedOut:
		t.Errorf("whittle %s: still running after a minute (killed)", strings.Join(args, " "))
	case crashed(p):
		t.Errorf("whittle %s crashed (exit %d):\n%s", strings.Join(args, " "), p.code, p.stdout+p.stderr)
	}
	if p.code != exitOK {
		if _, err := os.Stat(out); err == nil {
			t.Errorf("whittle %s failed but left %s", strings.Join(args, " "), out)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp") {
				t.Errorf("whittle %s left the temporary file %s", strings.Join(args, " "), e.Name())
			}
		}
	}
	os.RemoveAll(out)
	return p
}

const hostileBegin, hostileEnd = "<!-- hostile table begin -->\n", "<!-- hostile table end -->\n"

// writeHostileTable replaces the text between the markers in path with the table of rows.
func writeHostileTable(path string, rows []hostileRow) error {
	var b strings.Builder
	b.WriteString("| # | input | command | exit | peak memory | time | what whittle says |\n|---:|---|---|---:|---:|---:|---|\n")
	for i, r := range rows {
		msg := strings.NewReplacer(r.dir+"/", "", r.outside+"/", "OUTSIDE/").Replace(summary(r.p))
		if rs := []rune(msg); len(rs) > 300 {
			msg = string(rs[:300]) + "…"
		}
		cmd := strings.Join(append([]string{r.c.Command}, r.c.Flags...), " ")
		fmt.Fprintf(&b, "| %d | %s | `%s` | %d | %.1f MB | %.2f s | %s |\n", i+1, mdEscape(r.c.Kind), cmd, r.p.code,
			float64(r.p.peakKB)/1024, r.p.took.Seconds(), mdEscape(msg))
	}
	return replaceBetweenMarkers(path, hostileBegin, hostileEnd, b.String())
}

// replaceBetweenMarkers rewrites the text between the begin and end marker lines of the
// document at path (the generated tables of docs/hardening.md).
func replaceBetweenMarkers(path, begin, end, body string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	before, rest, ok := strings.Cut(string(doc), begin)
	_, after, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		return fmt.Errorf("%s has no %q ... %q markers", path, strings.TrimSpace(begin), strings.TrimSpace(end))
	}
	return os.WriteFile(path, []byte(before+begin+body+end+after), 0o644)
}

// summary is the line of a process's output that says what happened: the error (with the
// line after it when it ends in a colon), the first problem check found, or for an
// accepted input the first line of its output.
func summary(p process) string {
	var lines []string
	for _, l := range strings.Split(p.stderr+"\n"+p.stdout, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasSuffix(l, "problem(s)") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	if strings.HasSuffix(lines[0], ":") && len(lines) > 1 {
		return lines[0] + " " + lines[1]
	}
	return lines[0]
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "<", "&lt;", ">", "&gt;").Replace(s)
}
