package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/distill"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
)

// distillTeacher returns the path of a trained test model, skipping when the data or the
// model is missing.
func distillTeacher(t *testing.T, name string) string {
	t.Helper()
	root, ok := testenv.RepoRoot()
	if !ok {
		t.Fatal("no repository root")
	}
	p := filepath.Join(root, "testmodels", name)
	if _, err := os.Stat(p); err != nil {
		testenv.Skipf(t, "%v", err)
	}
	if _, err := dataset.Open("fashion-mnist:test:1"); err != nil {
		testenv.Skipf(t, "Fashion-MNIST: %v", err)
	}
	return p
}

func TestDistillCommand(t *testing.T) {
	teacher := distillTeacher(t, "fashion_mlp_op17.onnx")
	dir := t.TempDir()
	out := filepath.Join(dir, "student.onnx")
	report := filepath.Join(dir, "report.json")
	code, stdout, stderr := run(t, "distill", teacher, "-o", out, "--data", "fashion-mnist:train:256",
		"--val", "fashion-mnist:test:200", "--student", "lowrank:params=0.5", "--epochs", "1", "--batch", "64",
		"--optimizer", "adamw", "--report", report, "--threads", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	for _, want := range []string{"lowrank:params=0.5", "params", "top-1    teacher", "agree"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	m, err := onnx.LoadModel(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.MetadataValue(distill.MetaDistill); !ok {
		t.Error("no distill provenance in the metadata")
	}
	if _, err := os.Stat(report); err != nil {
		t.Error(err)
	}
	if code, _, stderr := run(t, "check", out); code != 0 {
		t.Errorf("whittle check: %s", stderr)
	}
	code, stdout, _ = run(t, "diff", teacher, out)
	if code != 0 || !strings.Contains(stdout, " 0 unexplained") || !strings.Contains(stdout, "by distill") {
		t.Errorf("whittle diff does not explain the student by the distill step (exit %d):\n%s", code, stdout)
	}
}

// Bad input: a clear error naming what is wrong, exit 1, and no file written.
func TestDistillCommandBadInput(t *testing.T) {
	teacher := distillTeacher(t, "fashion_cnn_op17.onnx")
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.onnx")
	if err := os.WriteFile(garbage, []byte("\x08\x07garbage, not protobuf"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A well-formed student whose output has 5 classes instead of 10.
	g := ir.NewGraph("s")
	x := g.AddInput("input", ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(1), ir.Known(28), ir.Known(28)))
	shape := g.AddInitializer(ir.FromInt64("shape", []int64{2}, []int64{-1, 784}))
	w := g.AddInitializer(ir.FromFloat32("w", []int64{784, 5}, make([]float32, 784*5)))
	r := g.NewNode("", "Reshape", []*ir.Value{x, shape}, []string{"flat"})
	g.Append(r)
	mm := g.NewNode("", "MatMul", []*ir.Value{r.Output(0), w}, []string{"logits"})
	g.Append(mm)
	mm.Output(0).Type = ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(5))
	g.Outputs = []*ir.Value{mm.Output(0)}
	wrong := filepath.Join(dir, "five_classes.onnx")
	if err := onnx.SaveModel(wrong, &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 17}}, Graph: g}, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	common := []string{"--data", "fashion-mnist:train:64", "--epochs", "1"}
	for _, tc := range []struct {
		name    string
		student string
		extra   []string
		code    int
		want    string
	}{
		{"interfaces do not match", wrong, nil, 1, `output 0 "logits" is float[N,5], the teacher's "logits" is float[batch,10] (dimension 1 is 5, want 10)`},
		{"student file does not parse", garbage, nil, 1, "garbage.onnx"},
		{"block range is not single-entry single-exit", "block:/features/features.4/Relu_output_0../features/features.4/Relu_1_output_0=auto:width=0.5", nil, 1,
			`reads "/features/features.3/MaxPool_output_0", which is computed outside the region: a second entry`},
		{"block range has a second exit", "block:/features/features.2/features.2.2/Relu_output_0../features/features.4/Relu_output_0=auto:width=0.5", nil, 1,
			`"/features/features.3/MaxPool_output_0", computed inside, is read outside by`},
		{"budget cannot be met", "auto:macs=0.0001", nil, 1, "cannot reach 0.0001 of the teacher's MACs"},
		{"accuracy budget missed", "auto:macs=0.05", []string{"--val", "fashion-mnist:test:100", "--max-accuracy-drop", "0.1"}, 1, "points lost, the budget is 0.10"},
		{"student spec does not parse", "auto:macs=two", nil, 2, "macs=two must be a number"},
		{"unknown tensor", "block:nope..logits=auto:width=0.5", nil, 1, `the graph has no tensor "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out.onnx")
			args := append([]string{"distill", teacher, "-o", out, "--student", tc.student}, common...)
			code, stdout, stderr := run(t, append(args, tc.extra...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s%s", code, tc.code, tc.want, stderr, stdout)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was written", out)
			}
		})
	}
	if code, _, _ := run(t, "distill", teacher, "-o", filepath.Join(dir, "x.onnx")); code != 2 {
		t.Errorf("no --data: exit %d, want 2", code)
	}
}
