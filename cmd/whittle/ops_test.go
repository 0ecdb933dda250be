package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/runtime"
)

func TestOpsCommand(t *testing.T) {
	code, stdout, stderr := run(t, "ops", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out struct {
		Schema    string             `json:"schema"`
		Operators []runtime.Operator `json:"operators"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Schema != "whittle.ops/1" {
		t.Errorf("schema %q", out.Schema)
	}
	ops := out.Operators
	if len(ops) < 150 {
		t.Errorf("only %d kernels listed", len(ops))
	}
	for _, o := range ops {
		if _, err := os.Stat(filepath.Join("../..", o.File)); err != nil || !strings.HasPrefix(o.File, "runtime/") {
			t.Errorf("%s's kernel file %q: %v", o.Op, o.File, err)
		}
	}
	code, stdout, _ = run(t, "ops", "Conv", "Relu")
	if code != 0 || !strings.Contains(stdout, "runtime/ops/nn/") || strings.Contains(stdout, "MatMul") {
		t.Errorf("ops Conv Relu: exit %d\n%s", code, stdout)
	}
	if code, _, _ = run(t, "ops", "NoSuchOp"); code != 1 {
		t.Errorf("an unknown operator: exit %d, want 1", code)
	}
	if code, stdout, _ = run(t, "ops", "--markdown"); code != 0 || !strings.Contains(stdout, "| Conv |") {
		t.Errorf("--markdown: exit %d", code)
	}
}
