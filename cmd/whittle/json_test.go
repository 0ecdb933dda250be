package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
)

// TestJSONEveryCommand runs every command with --json (diff with its --format json) and
// parses what it prints: one JSON object whose "schema" is whittle.COMMAND/1 and which
// holds the fields docs/json.md documents as always present.
func TestJSONEveryCommand(t *testing.T) {
	root, _ := testenv.RepoRoot()
	mlp := filepath.Join(root, "testmodels", "fashion_mlp_op17.onnx")
	relu := filepath.Join(testenv.ONNXTestsDir(t), "node", "test_relu")
	dir := t.TempDir()
	images := filepath.Join(dir, "images")
	writeImageCrops(t, filepath.Join(images, "a"), 1, 5)
	writeImageCrops(t, filepath.Join(images, "b"), 1, 6)
	pre := "resize=28x28,channels=gray"
	pruned := filepath.Join(dir, "pruned.onnx")
	if code, _, stderr := run(t, "prune", mlp, "-o", pruned, "--sparsity", "0.5"); code != 0 {
		t.Fatal(stderr)
	}
	tests := []struct {
		command string
		args    []string
		fields  []string
	}{
		{"check", []string{"check", "--json", mlp}, []string{"models", "failed"}},
		{"convert", []string{"convert", "--json", mlp, "-o", filepath.Join(dir, "c.onnx"), "--opset", "18"}, []string{"input", "output", "bytes", "opset_from", "opset_to", "changes"}},
		{"run", []string{"run", "--json", mlp, "--random", "-o", filepath.Join(dir, "run")}, []string{"model", "outputs"}},
		{"inspect", []string{"inspect", "--json", mlp}, []string{"file", "params", "macs", "nodes", "initializers", "layers"}},
		{"eval", []string{"eval", "--json", mlp, "--data", "images:" + images, "--preprocess", pre}, []string{"model", "rows", "top1", "confusion"}},
		{"optimize", []string{"optimize", "--json", mlp, "-o", filepath.Join(dir, "o.onnx")}, []string{"input", "output", "before", "after", "changes"}},
		{"prune", []string{"prune", "--json", mlp, "-o", filepath.Join(dir, "p.onnx"), "--sparsity", "0.3"}, []string{"layers"}},
		{"quantize", []string{"quantize", "--json", mlp, "-o", filepath.Join(dir, "q.onnx"), "--calibration", "images:" + images, "--preprocess", pre}, []string{"input", "output", "step", "result"}},
		{"compare", []string{"compare", "--json", mlp, pruned, "--data", "images:" + images, "--preprocess", pre}, []string{"a", "b", "rows", "outputs", "failed"}},
		{"diff", []string{"diff", "--json", mlp, pruned}, []string{"a", "b", "graph", "totals", "summary"}},
		{"bench", []string{"bench", "--json", mlp, "--runs", "2", "--warmup", "0"}, []string{"models"}},
		{"test", []string{"test", "--json", relu}, []string{"results", "passed", "failed", "skipped"}},
		{"ops", []string{"ops", "--json", "Relu"}, []string{"operators"}},
		{"finetune", []string{"finetune", "--json", mlp, "-o", filepath.Join(dir, "f.onnx"), "--data", "fashion-mnist:train:64", "--epochs", "1"}, []string{"input", "output", "seconds"}},
		{"distill", []string{"distill", "--json", mlp, "-o", filepath.Join(dir, "d.onnx"), "--data", "fashion-mnist:train:64", "--epochs", "1",
			"--student", "lowrank:rank=8", "--optimizer", "adamw"}, []string{"teacher", "output", "params", "build", "phases"}},
		{"calibrate", []string{"calibrate", "--json", mlp, "-o", filepath.Join(dir, "stats.json"), "--data", "images:" + images, "--preprocess", pre, "--shard", "1/2"}, []string{"model", "output", "shard", "shards", "rows", "tensors"}},
		{"report", []string{"report", "--json", mlp, pruned, "--runs", "1", "-o", filepath.Join(dir, "r.html")}, []string{"output", "data", "variants"}},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.command] = true
		t.Run(tc.command, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
			}
			var schema string
			if err := json.Unmarshal(doc["schema"], &schema); err != nil || schema != "whittle."+tc.command+"/1" {
				t.Errorf("schema %s, want whittle.%s/1", doc["schema"], tc.command)
			}
			if !strings.HasPrefix(strings.TrimSpace(stdout), `{`+"\n"+`  "schema"`) {
				t.Errorf("schema is not the first field")
			}
			for _, f := range tc.fields {
				if _, ok := doc[f]; !ok {
					t.Errorf("no %q field", f)
				}
			}
		})
	}
	// Every registered command is covered, and docs/json.md documents each one.
	spec, err := os.ReadFile(filepath.Join(root, "docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range commands {
		if !seen[name] {
			t.Errorf("command %s has no --json test", name)
		}
		if !strings.Contains(string(spec), "`whittle."+name+"/1`") {
			t.Errorf("docs/json.md does not document whittle.%s/1", name)
		}
	}
	// Where stdout carries the model, --json is refused rather than mixed in.
	if code, _, _ := run(t, "optimize", "--json", mlp, "-o", "-"); code != exitUsage {
		t.Errorf("optimize --json -o -: exit %d, want %d", code, exitUsage)
	}
}
