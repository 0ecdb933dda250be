package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whittle-ml/whittle/internal/hostile"
)

// The test binary doubles as whittle: with WHITTLE_TEST_MAIN set it runs Main on its
// arguments, so that interrupt tests can signal a real process.
func TestMain(m *testing.M) {
	if os.Getenv("WHITTLE_TEST_MAIN") != "" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// interrupt starts whittle with args, sends sig after delay and returns the exit code, the
// time from the signal to the exit, and stderr.
func interrupt(t *testing.T, sig syscall.Signal, delay time.Duration, args ...string) (int, time.Duration, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "WHITTLE_TEST_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay)
	sent := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal: %v (the command ended before it: %s)", err, stderr.String())
	}
	_ = cmd.Wait()
	return cmd.ProcessState.ExitCode(), time.Since(sent), stderr.String()
}

// Long commands stop within a second of SIGINT or SIGTERM, exit with 128+signal, and leave
// neither a temporary file nor an output behind: a model run (which stops at the next
// node), calibration, and a pass pipeline that never looks at the context (the process
// exits after a grace period, removing unfinished outputs).
func TestInterruptStopsWithinASecond(t *testing.T) {
	dir := t.TempDir()
	loop := writeModel(t, dir, "loop.onnx", hostile.LoopForever(1<<62))
	cnn := filepath.Join("..", "..", "testmodels", "fashion_cnn_op17.onnx")
	for _, tt := range []struct {
		name  string
		sig   syscall.Signal
		delay time.Duration
		args  []string
		out   string // output that must not exist afterwards
	}{
		{"run, SIGINT", syscall.SIGINT, 500 * time.Millisecond, []string{"run", loop, "--random", "--output-dir", filepath.Join(dir, "run-out")}, "run-out"},
		{"run, SIGTERM", syscall.SIGTERM, 500 * time.Millisecond, []string{"run", loop, "--random"}, ""},
		{"quantize during calibration", syscall.SIGINT, 1500 * time.Millisecond,
			[]string{"quantize", cnn, "-o", filepath.Join(dir, "q.onnx"), "--calibration", "fashion-mnist:train", "--batch-size", "8"}, "q.onnx"},
		{"prune, which ignores the context", syscall.SIGTERM, 700 * time.Millisecond,
			[]string{"prune", cnn, "-o", filepath.Join(dir, "p.onnx"), "--sparsity", "0.5", "--scope", "global"}, "p.onnx"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.args[0] == "quantize" {
				if _, err := os.Stat("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"); err != nil && os.Getenv("WHITTLE_FASHION_MNIST") == "" {
					t.Skip("Fashion-MNIST not installed")
				}
			}
			code, took, stderr := interrupt(t, tt.sig, tt.delay, tt.args...)
			if code != 128+int(tt.sig) || !strings.Contains(stderr, "interrupted by") {
				t.Fatalf("exit %d, stderr %q; want %d and an interruption message", code, stderr, 128+int(tt.sig))
			}
			t.Logf("exit %d, %s after the signal", code, took.Round(time.Millisecond))
			if took > time.Second {
				t.Errorf("stopped %s after the signal, want within a second", took)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") || (tt.out != "" && e.Name() == tt.out) {
					t.Errorf("left %s behind", e.Name())
				}
			}
		})
	}
}
