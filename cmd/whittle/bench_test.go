package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/ortpeer"
)

func TestBench(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.onnx")
	pixelClassifier(t, model)
	code, out, errOut := run(t, "bench", model, "--runs", "3", "--batch", "4", "--threads", "1,2")
	if code != exitOK || !strings.Contains(out, "(batch 4, 1 thread(s))") || !strings.Contains(out, "(batch 4, 2 thread(s))") ||
		!strings.Contains(out, "allocations per run") {
		t.Fatalf("bench: %d\n%s%s", code, out, errOut)
	}
	// --ops lists the session's steps as it runs them: the Gemm is a FusedGemm, once per run.
	code, out, errOut = run(t, "bench", model, "--runs", "3", "--batch", "4", "--threads", "1", "--ops", "5")
	if code != exitOK || !strings.Contains(out, "costliest operators") || !strings.Contains(out, "x1   FusedGemm [4 784]") ||
		!strings.Contains(out, "Flatten [4 1 28 28]") {
		t.Fatalf("bench --ops: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, "bench", model, "--runs", "2", "--threads", "1", "--ops", "1", "--json")
	var withOps struct {
		Models []struct {
			Ops []struct {
				Op         string  `json:"op"`
				InputShape []int64 `json:"input_shape"`
				Count      float64 `json:"count"`
				MS         float64 `json:"ms"`
				Share      float64 `json:"share"`
			} `json:"ops"`
		} `json:"models"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &withOps) != nil || len(withOps.Models) != 1 || len(withOps.Models[0].Ops) != 1 {
		t.Fatalf("bench --ops --json: %d\n%s%s", code, out, errOut)
	}
	if o := withOps.Models[0].Ops[0]; o.Op != "FusedGemm" || o.Count != 1 || o.MS <= 0 || o.Share <= 0 || o.Share > 1 ||
		len(o.InputShape) != 2 || o.InputShape[1] != 784 {
		t.Fatalf("bench --ops --json: costliest step %+v, want the FusedGemm once per run", o)
	}
	for _, args := range [][]string{{model, "--runs", "0"}, {}, {model, "--threads", "-1"}, {model, "--ops", "-1"}} {
		if code, _, _ := run(t, append([]string{"bench"}, args...)...); code != exitUsage {
			t.Fatalf("bench %v: exit %d, want 2", args, code)
		}
	}
	// A suite file names models relative to itself.
	suite := filepath.Join(dir, "suite.json")
	if err := os.WriteFile(suite, []byte(`{"models": [{"name": "pixels", "model": "m.onnx", "batch": 2}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "bench", "--suite", suite, "--runs", "2", "--threads", "1", "--json")
	var res struct {
		Schema  string `json:"schema"`
		Machine string `json:"machine"`
		Models  []struct {
			Name    string `json:"name"`
			Batch   int    `json:"batch"`
			Threads int    `json:"threads"`
			Whittle struct {
				MedianMS float64 `json:"median_ms"`
			} `json:"whittle"`
		} `json:"models"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || res.Schema != "whittle.bench/1" || len(res.Models) != 1 ||
		res.Models[0].Name != "pixels" || res.Models[0].Batch != 2 || res.Models[0].Threads != 1 || res.Machine == "" {
		t.Fatalf("bench --suite --json: %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := run(t, "bench", "--suite", filepath.Join(dir, "missing.json")); code != exitFail {
		t.Fatalf("bench with a missing suite: exit %d, want 1", code)
	}
	ortpeer.Require(t)
	code, out, errOut = run(t, "bench", model, "--runs", "4", "--rounds", "2", "--ort", "--threads", "1")
	if code != exitOK || !strings.Contains(out, "whittle / ORT") {
		t.Fatalf("bench --ort: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, "bench", "--suite", suite, "--runs", "2", "--ort", "--threads", "1,2", "--markdown")
	if code != exitOK || !strings.Contains(out, "| pixels | 2 |") || !strings.Contains(out, "ORT, 2 threads") {
		t.Fatalf("bench --markdown: %d\n%s%s", code, out, errOut)
	}
}
