package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/irtest"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
)

// saveChain writes X -> Relu -> [Identity] -> Y as an ONNX file and returns its path.
func saveChain(t *testing.T, dir, name string, withIdentity bool) string {
	t.Helper()
	b := irtest.New(t, 13).Input("X", ir.Float, 2, 3)
	reluOut := "Y"
	if withIdentity {
		reluOut = "r"
	}
	b.NodeIn("", "Relu", "X", reluOut).Name = "relu"
	if withIdentity {
		b.NodeIn("", "Identity", "r", "Y").Name = "id"
	}
	b.Value("Y").Type = ir.TensorTypeOf(ir.Float, 2, 3)
	path := filepath.Join(dir, name)
	if err := onnx.SaveModel(path, b.Output("Y").Model(), onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDiffCommand(t *testing.T) {
	dir := t.TempDir()
	a := saveChain(t, dir, "a.onnx", true)
	a2 := saveChain(t, dir, "a2.onnx", true)
	b := saveChain(t, dir, "b.onnx", false)

	t.Run("equal", func(t *testing.T) {
		for _, args := range [][]string{{"diff", a, a2}, {"diff", a, a2, "--exit-code"}} {
			code, out, errOut := run(t, args...)
			if code != exitOK || !strings.Contains(out, "no differences") {
				t.Errorf("%v = %d\n%s%s", args, code, out, errOut)
			}
		}
	})

	t.Run("text", func(t *testing.T) {
		code, out, errOut := run(t, "diff", a, b)
		if code != exitOK {
			t.Fatalf("diff = %d, want 0 without --exit-code\n%s", code, errOut)
		}
		for _, want := range []string{"--- " + a, "+++ " + b, "- id", "Identity", "output 0: r -> Y", "nodes   2 -> 1"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "\x1b[") {
			t.Error("--color auto coloured a non-terminal")
		}
	})

	t.Run("exit-code", func(t *testing.T) {
		if code, _, errOut := run(t, "diff", a, b, "--exit-code"); code != exitFail || errOut != "" {
			t.Errorf("--exit-code on different models = %d, stderr %q; want 1 and no message", code, errOut)
		}
	})

	t.Run("color", func(t *testing.T) {
		_, out, _ := run(t, "diff", a, b, "--color", "always")
		if !strings.Contains(out, "\x1b[31m- id") {
			t.Errorf("--color always did not colour the removal red:\n%q", out)
		}
	})

	t.Run("json", func(t *testing.T) {
		code, out, errOut := run(t, "diff", a, b, "--format", "json")
		if code != exitOK {
			t.Fatalf("= %d\n%s", code, errOut)
		}
		var d struct {
			Schema string `json:"schema"`
			Equal  bool   `json:"equal"`
			Graph  struct {
				Nodes []struct {
					Status string `json:"status"`
					Name   string `json:"name"`
				} `json:"nodes"`
			} `json:"graph"`
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		removed := false
		for _, n := range d.Graph.Nodes {
			removed = removed || (n.Name == "id" && n.Status == "removed")
		}
		if d.Schema != "whittle.diff/1" || d.Equal || !removed {
			t.Errorf("json: %+v", d)
		}
	})

	t.Run("dot", func(t *testing.T) {
		_, out, _ := run(t, "diff", a, b, "--format", "dot")
		if !strings.HasPrefix(out, "digraph") || !strings.Contains(out, "cluster_a") || !strings.Contains(out, "cluster_b") ||
			!strings.Contains(out, `label="float[2,3]"`) {
			t.Errorf("dot output:\n%s", out)
		}
	})

	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"diff", a}, {"diff", a, b, "--format", "yaml"}, {"diff", a, b, "--color", "sometimes"}} {
			if code, _, _ := run(t, args...); code != exitUsage {
				t.Errorf("%v = %d, want %d", args, code, exitUsage)
			}
		}
	})

	t.Run("missing file", func(t *testing.T) {
		code, _, errOut := run(t, "diff", a, filepath.Join(dir, "nope.onnx"))
		if code != exitFail || !strings.Contains(errOut, "nope.onnx") {
			t.Errorf("= %d, stderr %q", code, errOut)
		}
	})

	t.Run("help", func(t *testing.T) {
		code, out, _ := run(t, "diff", "--help")
		if code != exitOK || !strings.Contains(out, "--exit-code") || !strings.Contains(out, "Examples:") {
			t.Errorf("help = %d\n%s", code, out)
		}
	})
}

// TestDiffRealModel compares a PyTorch export with a copy whose weights were pruned.
func TestDiffRealModel(t *testing.T) {
	path := filepath.Join(testenv.ONNXTestsDir(t), "pytorch-converted", "test_ConvTranspose2d", "model.onnx")
	m, err := onnx.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	w := m.Graph.Nodes()[0].Input(1)
	vals, err := w.Const.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(vals); i += 4 {
		vals[i] = 0
	}
	w.Const = ir.FromFloat32(w.Name, w.Const.Dims, vals)
	pruned := filepath.Join(t.TempDir(), "pruned.onnx")
	if err := onnx.SaveModel(pruned, m, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "diff", path, pruned, "--exit-code")
	if code != exitFail {
		t.Fatalf("= %d, want 1 (models differ)\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "sparsity 0.0% -> 25.0%") || !strings.Contains(out, "1 changed") {
		t.Errorf("output:\n%s", out)
	}
}
