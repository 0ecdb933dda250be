package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/ortpeer"
)

func TestBench(t *testing.T) {
	model := filepath.Join(t.TempDir(), "m.onnx")
	pixelClassifier(t, model)
	code, out, errOut := run(t, "bench", model, "--runs", "3", "--batch", "4")
	if code != exitOK || !strings.Contains(out, "(batch 4)") || !strings.Contains(out, "allocations per run") {
		t.Fatalf("bench: %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := run(t, "bench", model, "--runs", "0"); code != exitUsage {
		t.Fatalf("bench --runs 0: exit %d, want 2", code)
	}
	ortpeer.Require(t)
	code, out, errOut = run(t, "bench", model, "--runs", "3", "--ort")
	if code != exitOK || !strings.Contains(out, "whittle / ORT") {
		t.Fatalf("bench --ort: %d\n%s%s", code, out, errOut)
	}
}
