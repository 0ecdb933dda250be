package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whittle-ml/whittle/internal/hostile"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"512", 512}, {"512B", 512}, {"64K", 64 << 10}, {"64KiB", 64 << 10}, {"3MB", 3 << 20},
		{"1.5G", 3 << 29}, {"2GiB", 2 << 30}, {"1t", 1 << 40},
	} {
		got, err := parseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	if got, err := parseSize("50%"); err != nil || got <= 0 || got >= kernel.DefaultMemoryBudget() {
		t.Errorf("parseSize(50%%) = %d, %v; want half of physical memory, below the default budget %d", got, err, kernel.DefaultMemoryBudget())
	}
	for _, bad := range []string{"", "-1G", "0", "12Q", "G", "150%", "0%", "1e30G"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) succeeded", bad)
		}
	}
}

// The 32 GiB Expand (a 109-byte file) fails cleanly under the default budget and under
// --max-memory, naming the node, the shape and the budget; the budget is restored after.
func TestRunRespectsMemoryBudget(t *testing.T) {
	dir := t.TempDir()
	path := writeModel(t, dir, "expand.onnx", hostile.ExpandHuge(1<<33))
	before := kernel.MemoryBudget()
	code, _, stderr := run(t, "run", path, "--max-memory", "1GiB")
	if code != exitFail || !strings.Contains(stderr, `node "expand" (Expand): float[8589934592] needs 32.00 GiB, past the memory budget of 1.00 GiB`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if kernel.MemoryBudget() != before {
		t.Errorf("budget after the command: %d, want %d restored", kernel.MemoryBudget(), before)
	}
	if code, _, stderr := run(t, "run", path, "--max-memory", "lots"); code != exitUsage || !strings.Contains(stderr, "--max-memory") {
		t.Errorf("bad --max-memory: exit %d, stderr %q", code, stderr)
	}
	// A small Expand runs under the same budget.
	small := writeModel(t, dir, "small.onnx", hostile.ExpandHuge(1<<10))
	if code, stdout, stderr := run(t, "run", small, "--max-memory", "1GiB"); code != exitOK || !strings.Contains(stdout, "float[1024]") {
		t.Errorf("small Expand: exit %d, %q %q", code, stdout, stderr)
	}
}

func TestRunTimeout(t *testing.T) {
	path := writeModel(t, t.TempDir(), "loop.onnx", hostile.LoopForever(1<<62))
	start := time.Now()
	code, _, stderr := run(t, "run", path, "--random", "--timeout", "200ms")
	if code != exitFail || !strings.Contains(stderr, "stopped: --timeout 200ms ran out") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to stop", d)
	}
	if code, _, stderr := run(t, "eval", path, "--data", filepath.Join(t.TempDir(), "none.npz"), "--timeout", "nonsense"); code != exitUsage {
		t.Errorf("bad --timeout: exit %d, stderr %q", code, stderr)
	}
}
